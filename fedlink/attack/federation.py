"""One research project as a curious hub receives it, with the truth kept apart.

:func:`build_federation` draws a synthetic state (:func:`fedlink.synth.generate`),
normalises every agency's records as the node's ingest does
(:func:`protocol.normalize.normalize_identity`), and encodes them with **random** project
keys and random pseudonyms through the encoder of a *scheme*:

- ``"legacy"``: :func:`protocol.encoding_legacy.encode_columns_legacy` (the field-level
  XOR-folded Bloom filters and unpadded token lists; falls back to
  :func:`protocol.encoding.encode_columns` on a tree that does not have the legacy module);
- ``"current"``: :func:`protocol.encoding.encode_columns`, whatever it ships today.

The keys are drawn from ``os.urandom`` and dropped: nothing an attack receives can
reproduce them. The truth (the normalised values the encoder saw) is a separate frame per
agency, row-aligned with that agency's token table, and is used only for scoring.
"""

from __future__ import annotations

import datetime as dt
import os
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd
import pyarrow as pa

from fedlink.bench.datasets import as_strings, raw_rows
from protocol.columns import IdentityColumns
from protocol.encoding import address_value, middle_value
from protocol.identity import NormalizedIdentity
from protocol.keys import ProjectKeys, derive_project_keys
from protocol.normalize import NormalizationOptions, normalize_identity

#: ``encoder(pids, columns, keys) -> token batch``: one scheme's node-side encoder.
Encoder = Callable[[Sequence[str], IdentityColumns, ProjectKeys], pa.RecordBatch]

SCHEMES: tuple[str, ...] = ("legacy", "current")

#: Truth columns kept per record (never inside a token table).
TRUTH_COLUMNS: tuple[str, ...] = (
    "first_name",
    "last_name",
    "middle_name",
    "address",
    "dob",
    "sex",
    "nickname",
    "compound_surname",
    "has_ssn",
)


def encoder_for(scheme: str) -> Encoder:
    """The node-side encoder of ``scheme`` (``legacy`` or ``current``).

    Raises ``ValueError`` for another name.
    """
    if scheme == "legacy":
        try:
            from protocol.encoding_legacy import encode_columns_legacy
        except ImportError:  # a tree where today's encoding still is the legacy one
            from protocol.encoding import encode_columns

            return encode_columns
        return encode_columns_legacy
    if scheme == "current":
        from protocol.encoding import encode_columns

        return encode_columns
    raise ValueError(f"unknown scheme {scheme!r}: choose one of {', '.join(SCHEMES)}")


Random = Callable[[int], bytes]


def randbytes_from(seed: int | None) -> Random:
    """``os.urandom``, or when ``seed`` is given a generator seeded with it — only for
    reproducible runs on synthetic data (the tests): it never draws a real key."""
    return os.urandom if seed is None else random.Random(seed).randbytes  # noqa: S311


def random_keys(randbytes: Random = os.urandom) -> ProjectKeys:
    """Fresh project keys from a random federation secret and salt (never stored)."""
    return derive_project_keys(randbytes(32), randbytes(32), project_id="attack",
                               project_digest=randbytes(32).hex())


def random_pids(count: int, randbytes: Random = os.urandom) -> list[str]:
    """``count`` random pseudonyms (32 lower-case hex digits, as the nodes ship)."""
    return [randbytes(16).hex() for _ in range(count)]


def truth_frame(identities: Sequence[NormalizedIdentity]) -> pd.DataFrame:
    """The ground truth of each identity (:data:`TRUTH_COLUMNS`), row-aligned."""
    rows = [
        (
            x.first_name,
            x.last_name,
            middle_value(x.middle_name),
            address_value(x.street_address, x.postal_code, x.city),
            x.dob,
            None if x.sex is None else x.sex.value,
            bool(x.first_name_canonical),
            bool(x.last_name_parts),
            x.ssn is not None,
        )
        for x in identities
    ]
    return pd.DataFrame(rows, columns=list(TRUTH_COLUMNS), dtype="object")


@dataclass(frozen=True)
class Federation:
    """One project's token tables as the hub holds them, and (apart) the truth."""

    scheme: str
    people: int
    seed: int
    #: agency → token table (what the hub receives).
    tables: dict[str, pa.Table]
    #: agency → truth, row-aligned with ``tables[agency]`` (for scoring only).
    truth: dict[str, pd.DataFrame]

    def table(self) -> pa.Table:
        """Every agency's token table, one after the other (the hub pools a project)."""
        return pa.concat_tables(list(self.tables.values()), promote_options="default")

    def truth_all(self) -> pd.DataFrame:
        """The truth of :meth:`table`'s rows, in the same order."""
        return pd.concat(list(self.truth.values()), ignore_index=True)


def normalized_agencies(people: int, seed: int) -> dict[str, list[NormalizedIdentity]]:
    """The synthetic state's agencies, normalised as each node's ingest would."""
    from fedlink.synth import generate

    frames = generate(people, seed)
    options = NormalizationOptions()
    return {
        agency: [normalize_identity(row, options) for row in raw_rows(as_strings(frame))]
        for agency, frame in frames.items()
    }


def encode_agencies(
    agencies: dict[str, list[NormalizedIdentity]],
    scheme: str,
    keys: ProjectKeys | None = None,
    randbytes: Random = os.urandom,
) -> dict[str, pa.Table]:
    """Encode each agency's identities with ``scheme`` under ``keys`` (random when None;
    ``randbytes`` draws them and the pseudonyms: a seeded one makes a run reproducible)."""
    encoder = encoder_for(scheme)
    keys = keys or random_keys(randbytes)
    tables = {}
    for agency, identities in agencies.items():
        pids = random_pids(len(identities), randbytes)
        batch = encoder(pids, IdentityColumns.of(identities), keys)
        tables[agency] = pa.Table.from_batches([batch])
    return tables


def build_federation(
    people: int,
    seed: int,
    scheme: str,
    *,
    agencies: dict[str, list[NormalizedIdentity]] | None = None,
    key_seed: int | None = None,
) -> Federation:
    """One project of a ``people``-person synthetic state encoded with ``scheme`` under
    random keys (drawn from ``key_seed`` when given: reproducible runs, for tests).
    ``agencies`` (from :func:`normalized_agencies`) saves normalising twice when several
    schemes are built from one state."""
    if people < 1:
        raise ValueError(f"people must be at least 1, got {people}")
    if seed < 0:
        raise ValueError(f"seed must be 0 or more, got {seed}")
    if agencies is None:
        agencies = normalized_agencies(people, seed)
    tables = encode_agencies(agencies, scheme, randbytes=randbytes_from(key_seed))
    truth = {agency: truth_frame(identities) for agency, identities in agencies.items()}
    return Federation(scheme=scheme, people=people, seed=seed, tables=tables, truth=truth)


#: A fixed birth date for the attacker's own simulated identities (a salted encoding
#: needs one; the attacker has no better guess).
SIMULATION_DOB = dt.date(1985, 6, 15)
