"""What a curious hub knows without any key: public frequency tables and the construction.

*Frequency tables* are the synthetic generator's own lists with their weights
(:mod:`fedlink.synth.vocab`, rates from :mod:`fedlink.synth.population`) — the attacker's
best case, as if it held the very census and SSA tables the population was drawn from —
normalised as a node normalises (:mod:`protocol.normalize`). Given names carry their
nickname forms (the ``nicknames`` package is public) at a small share of the formal
name's weight; surnames are the US list (weighted) and the Mexican list (uniform).

*The construction* is open source: :class:`Simulations` runs a scheme's encoder on the
attacker's own made-up identities under keys the attacker draws itself, never the
project's.
"""

from __future__ import annotations

import functools
import os
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from fedlink.attack.federation import (
    SIMULATION_DOB,
    Random,
    encoder_for,
    random_keys,
    random_pids,
)
from fedlink.synth import population as synth_population
from fedlink.synth.vocab import vocabulary
from protocol.columns import IdentityColumns
from protocol.identity import NormalizedIdentity, Sex
from protocol.normalize import normalize_given_name, normalize_street_address, normalize_surname

#: Share of records holding a nickname instead of the formal name (the agencies' rates
#: are 1-12 %); spread evenly over a name's nickname forms.
NICKNAME_SHARE = 0.06

#: Public list behind each encoded field.
FIELD_LISTS: dict[str, str] = {
    "first_name": "given",
    "first_name_as_last": "given",
    "middle_name": "middle",
    "last_name": "surname",
    "address": "address",
}

#: Sampled addresses in the public address table (street + ZIP strings).
ADDRESS_SAMPLE = 20_000


@dataclass(frozen=True)
class PublicTable:
    """Public values of one kind, most frequent first, with probabilities summing to 1."""

    kind: str
    values: tuple[str, ...]
    weights: npt.NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.values)


def column_field(column: str) -> str | None:
    """The identity field an encoded column carries: ``bf_first_name`` → ``first_name``,
    ``mh_last_name__yob`` → ``last_name``; None for a column that is not a filter or
    signature."""
    if not column.startswith(("bf_", "mh_")):
        return None
    return column[3:].split("__", 1)[0]


def _table(kind: str, weights: dict[str, float]) -> PublicTable:
    items = sorted(((w, v) for v, w in weights.items() if v and w > 0), key=lambda t: (-t[0], t[1]))
    values = tuple(v for _, v in items)
    w = np.array([w for w, _ in items], dtype=np.float64)
    return PublicTable(kind, values, w / w.sum())


def _given(value: str) -> str | None:
    return normalize_given_name(value).value


def _pool_shares() -> dict[str, float]:
    hispanic = synth_population.HISPANIC_SHARE
    accented = (1 - hispanic) * synth_population.ACCENTED_GIVEN_SHARE
    return {"mx": hispanic * 0.6, "us": hispanic * 0.4 + (1 - hispanic) - accented,
            "accented": accented}  # fmt: skip


@functools.cache
def public_table(kind: str) -> PublicTable:
    """The public frequency table of ``kind``: ``given`` (with nicknames), ``middle``,
    ``surname`` or ``address``."""
    vocab = vocabulary()
    weights: dict[str, float] = defaultdict(float)
    if kind in ("given", "middle"):
        shares = _pool_shares()
        formal: dict[int, float] = defaultdict(float)
        for (_sex, pool), (ids, p) in vocab.given_pools.items():
            if kind == "middle" and pool == "accented":
                continue
            for i, q in zip(ids.tolist(), p.tolist(), strict=True):
                formal[i] += 0.5 * shares[pool] * q
        for i, w in formal.items():
            count = int(vocab.nick_count[i])
            share = NICKNAME_SHARE if (kind == "given" and count) else 0.0
            name = _given(str(vocab.given[i]))
            if name:
                weights[name] += w * (1 - share)
            for j in range(count):
                nick = _given(str(vocab.nick_flat[vocab.nick_start[i] + j]))
                if nick:
                    weights[nick] += w * share / count
        return _table(kind, weights)
    if kind == "surname":
        hispanic = synth_population.HISPANIC_SHARE
        names, p = vocab.surname_us
        for name, q in zip(names.tolist(), p.tolist(), strict=True):
            value = normalize_surname(name).value
            if value:
                weights[value[0]] += (1 - hispanic) * q
        for name in vocab.surname_mx.tolist():
            value = normalize_surname(name).value
            if value:
                weights[value[0]] += hispanic / len(vocab.surname_mx)
        return _table(kind, weights)
    if kind == "address":
        return _table(kind, _address_sample())
    raise ValueError(f"no public table of kind {kind!r}")


def _address_sample() -> dict[str, float]:
    """Street + ZIP strings drawn from the generator's street, suffix and ZIP lists."""
    vocab = vocabulary()
    rng = np.random.default_rng(1)
    n = ADDRESS_SAMPLE
    house = (10 ** rng.uniform(0.3, 4.3, n)).astype(np.int64)
    street = rng.integers(0, len(vocab.street_name), n)
    city = rng.choice(len(vocab.city), size=n, p=vocab.city_p)
    pick = (rng.random(n) * vocab.city_zip_count[city]).astype(np.int64)
    zips = vocab.zips[vocab.city_zip_start[city] + pick]
    weights: dict[str, float] = defaultdict(float)
    for h, s, z in zip(house.tolist(), street.tolist(), zips.tolist(), strict=True):
        raw = f"{h} {vocab.street_name[s]} {vocab.suffix_abbr[vocab.street_suffix[s]]}"
        value = normalize_street_address(raw).value
        if value:
            weights[f"{value} {z:05d}"] += 1.0
    return weights


def table_kind(column: str) -> str | None:
    """The kind of public table (:data:`FIELD_LISTS`) ``column`` draws its values from;
    None when there is none."""
    return FIELD_LISTS.get(column_field(column) or "")


def table_for_column(column: str) -> PublicTable | None:
    """The public table an attack on ``column`` aligns with; None when there is none."""
    kind = table_kind(column)
    return public_table(kind) if kind else None


def _identity(field: str, value: str) -> NormalizedIdentity:
    if field == "address":
        return NormalizedIdentity(street_address=value, dob=SIMULATION_DOB, sex=Sex.FEMALE)
    return NormalizedIdentity(
        first_name=value, middle_name=value, last_name=value, dob=SIMULATION_DOB, sex=Sex.FEMALE
    )


def _encode_under_own_keys(
    scheme: str, field: str, values: Sequence[str], keys_count: int, randbytes: Random
) -> list[pa.RecordBatch]:
    encoder = encoder_for(scheme)
    columns = IdentityColumns.of([_identity(field, v) for v in values])
    return [
        encoder(random_pids(len(values), randbytes), columns, random_keys(randbytes))
        for _ in range(keys_count)
    ]


def _column_arrays(batches: Sequence[pa.RecordBatch], column: str, scheme: str) -> list[pa.Array]:
    out = []
    for batch in batches:
        index = batch.schema.get_field_index(column)
        if index < 0:
            raise ValueError(f"scheme {scheme!r} does not produce column {column}")
        out.append(batch.column(index))
    return out


class Simulations:
    """The attacker's own-key encodings of the public tables, shared between columns.

    The encoder makes every column of a record in one pass, so one encoding of a public
    table under ``keys_count`` own keys serves every column drawn from that table (the
    first name and its salted variants, say). ``draw`` numbers the attacker's fresh
    starts: each draw of a table is a new set of own keys. Only the table's own filter
    columns are kept.
    """

    def __init__(self, scheme: str, keys_count: int, randbytes: Random = os.urandom) -> None:
        self.scheme = scheme
        self.keys_count = keys_count
        self._randbytes = randbytes
        self._drawn: dict[tuple[str, int], list[pa.RecordBatch]] = {}

    def column(self, column: str, draw: int) -> list[pa.Array]:
        """``column`` of its public table (:func:`table_for_column`) encoded under draw
        ``draw``'s own keys: one Arrow array per key, row i encoding the table's value i
        (null where the encoder emits nothing)."""
        field, kind = column_field(column), table_kind(column)
        if field is None or kind is None:
            raise ValueError(f"{column} is not an encoded field column with a public table")
        if (kind, draw) not in self._drawn:
            values = public_table(kind).values
            batches = _encode_under_own_keys(
                self.scheme, field, values, self.keys_count, self._randbytes
            )
            keep = [name for name in batches[0].schema.names if table_kind(name) == kind]
            self._drawn[kind, draw] = [b.select(keep) for b in batches]
        return _column_arrays(self._drawn[kind, draw], column, self.scheme)
