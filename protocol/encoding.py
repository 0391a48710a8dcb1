"""The token batch a node streams to the hub for one match request (Arrow).

One row per record: the record's project-scoped pseudonym, its match-key and blocking-key
tokens (a list per rule, empty when the rule did not emit) and its keyed Bloom filters
(null when the field is missing). Nothing else: no identity value ever enters a batch, and
:func:`encode_batch` refuses a ``pid`` that is not a pseudonym, so a local record id cannot
slip through by mistake.

Columns, in order (see :func:`token_batch_schema`)::

    pid                 string, not null     protocol.keys.pseudonymous_id(...)
    mk_<rule>           list<fixed_size_binary(16)>, one per MATCH_KEY_RULES
    bk_<rule>           list<fixed_size_binary(16)>, one per BLOCKING_KEY_RULES
    bf_<field>          fixed_size_binary(BLOOM_BYTES), nullable, one per BLOOM_FIELDS

:func:`encode_columns` takes a batch already split into columns
(:class:`protocol.columns.IdentityColumns`), which is what a node hands its worker
processes (``agency_node.services.parallel_encoding``): the same rows, byte for byte.
:func:`encode_unit_columns` encodes *units* with several identity versions (an agency
person's rows, :mod:`protocol.unit_tokens`): one row per unit, same schema.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import Final, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from protocol import PROTOCOL_VERSION
from protocol.bloom import MIN_MIDDLE_NAME_LETTERS
from protocol.columns import IdentityColumns
from protocol.errors import EncodingError
from protocol.identity import NormalizedIdentity
from protocol.keys import PSEUDONYM_BYTES, ProjectKeys
from protocol.salted_bloom import (
    SALTED_BLOOM_BYTES,
    filter_columns,
    salted_filters,
)
from protocol.token_padding import dummy_key, fixed_length, pid_bytes
from protocol.token_parts import Columns
from protocol.tokens import (
    BLOCKING_KEY_RULES,
    MATCH_KEY_RULES,
    TOKEN_BYTES,
    TOKEN_PRF,
    RuleTokens,
    TokenEncoder,
)
from protocol.unit_tokens import merge_versions, primary_rows, unit_owners

DEFAULT_BATCH_SIZE: Final = 50_000
#: Names what a batch holds (``docs/privacy.md``); in every batch's schema metadata.
ENCODING: Final = "fedlink/2 salted constant-weight bloom, fixed-length token lists"
_PID_PATTERN: Final = f"^[0-9a-f]{{{2 * PSEUDONYM_BYTES}}}$"
_TOKEN_TYPE: Final = pa.binary(TOKEN_BYTES)
TOKEN_LIST_TYPE: Final = pa.list_(pa.field("item", _TOKEN_TYPE, nullable=False))
_BLOOM_TYPE: Final = pa.binary(SALTED_BLOOM_BYTES)

Record = tuple[str, NormalizedIdentity]


def token_batch_schema() -> pa.Schema:
    """The Arrow schema of every token batch; its metadata carries the protocol version."""
    fields = [pa.field("pid", pa.string(), nullable=False)]
    fields += [pa.field(f"mk_{r}", TOKEN_LIST_TYPE, nullable=False) for r in MATCH_KEY_RULES]
    fields += [pa.field(f"bk_{r}", TOKEN_LIST_TYPE, nullable=False) for r in BLOCKING_KEY_RULES]
    fields += [pa.field(name, _BLOOM_TYPE, nullable=True) for name in filter_columns()]
    return pa.schema(
        fields,
        metadata={
            "fedlink.protocol_version": PROTOCOL_VERSION,
            "fedlink.token_bytes": str(TOKEN_BYTES),
            "fedlink.bloom_bytes": str(SALTED_BLOOM_BYTES),
            # The token PRF: a hub refuses a stream whose metadata differs, so a node still
            # on another construction fails loudly instead of silently matching nothing.
            "fedlink.token_prf": TOKEN_PRF,
            # The encoding: a hub refuses batches of the field-level filters it replaced.
            "fedlink.encoding": ENCODING,
        },
    )


def address_value(street: str | None, postal_code: str | None, city: str | None) -> str | None:
    """The address string Bloom-encoded: street and ZIP (city when there is no ZIP).

    A street is required: ZIP or city alone is an area, not an address. The ZIP tells apart
    the many ``123 MAIN ST`` of a state; the city is used only as a fallback because it
    adds little once the ZIP is there and agencies spell it inconsistently.
    """
    if not street:
        return None
    area = postal_code or city
    return f"{street} {area}" if area else street


def middle_value(middle: str | None) -> str | None:
    """The middle name Bloom-encoded: only a full one (an initial is not compared)."""
    return middle if middle and len(middle) >= MIN_MIDDLE_NAME_LETTERS else None


def token_column(rule_tokens: RuleTokens) -> pa.ListArray:
    """``list<fixed_size_binary(16)>`` built straight from the concatenated tokens."""
    counts = rule_tokens.counts
    offsets = np.zeros(len(counts) + 1, dtype=np.int32)
    np.cumsum(counts, out=offsets[1:])
    values = pa.FixedSizeBinaryArray.from_buffers(
        _TOKEN_TYPE, int(offsets[-1]), [None, pa.py_buffer(rule_tokens.tokens)]
    )
    return cast(pa.ListArray, pa.ListArray.from_arrays(offsets, values, type=TOKEN_LIST_TYPE))


def filter_column(filters: np.ndarray, present: np.ndarray) -> pa.Array:
    """``(n, width)`` uint8 filters and their presence flags as a nullable
    ``fixed_size_binary(width)`` Arrow column."""
    validity = pa.py_buffer(np.packbits(present, bitorder="little").tobytes())
    return pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(filters.shape[1]),
        len(present),
        [validity, pa.py_buffer(filters)],
        null_count=len(present) - int(present.sum()),
    )


def _check_pids(pids: pa.Array) -> None:
    if len(pids) and not pc.all(pc.match_substring_regex(pids, _PID_PATTERN)).as_py():
        raise EncodingError(
            "every pid must be a pseudonym from protocol.keys.pseudonymous_id "
            f"({2 * PSEUDONYM_BYTES} lower-case hex digits), never a local record id"
        )


def pid_array(pids: Sequence[str]) -> pa.Array:
    try:
        array = pa.array(pids, type=pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
        raise EncodingError("every pid must be a string") from error
    _check_pids(array)
    return array


def _encode(
    pids: Sequence[str], batch: IdentityColumns, keys: ProjectKeys, encoder: TokenEncoder,
    owners: Sequence[int] | None = None,
) -> pa.RecordBatch:
    pid_array_ = pid_array(pids)
    if owners is None and len(pid_array_) != batch.rows:
        raise EncodingError("pids and identities must have the same length")
    units = len(pid_array_)
    unit_of = None if owners is None else unit_owners(owners, rows=batch.rows, units=units)
    parts = Columns(batch)  # framed parts: the tokens' input, and the household salts'
    match, blocking = encoder.encode_columns(batch, parts)
    if unit_of is not None:  # one list per unit: its versions' tokens, round-robin
        match = [merge_versions(t, unit_of, units) for t in match]
        blocking = [merge_versions(t, unit_of, units) for t in blocking]
    pids_raw = pid_bytes(pids)
    dummies = dummy_key(keys.match_token_key)
    columns: list[pa.Array] = [pid_array_]
    columns += [
        token_column(fixed_length(rule, tokens, pids_raw, dummies))
        for rule, tokens in zip((*MATCH_KEY_RULES, *BLOCKING_KEY_RULES), (*match, *blocking),
                                strict=True)
    ]
    field_values: dict[str, list[str | None]] = {
        "first_name": batch.first_name,
        "last_name": batch.last_name,
        "address": list(map(address_value, batch.street_address, batch.postal_code, batch.city)),
        "middle_name": list(map(middle_value, batch.middle_name)),
        # The first name again, under the last-name key (see protocol.bloom).
        "first_name_as_last": batch.first_name,
    }
    filters = salted_filters(batch, field_values, keys, parts=parts.primary)
    if unit_of is not None:  # a unit's filters are its primary version's
        primary = primary_rows(unit_of, units)
        filters = [(bits[primary], present[primary]) for bits, present in filters]
    columns += [filter_column(*f) for f in filters]
    return pa.RecordBatch.from_arrays(columns, schema=token_batch_schema())


def _encode_records(
    records: list[Record], keys: ProjectKeys, encoder: TokenEncoder
) -> pa.RecordBatch:
    return _encode(
        [pid for pid, _ in records], IdentityColumns.of([x for _, x in records]), keys, encoder
    )


def encode_columns(
    pids: Sequence[str], batch: IdentityColumns, keys: ProjectKeys
) -> pa.RecordBatch:
    """:func:`encode_batch` of records already split into pids and identity columns (what a
    node hands a worker process); the same rows, byte for byte."""
    return _encode(pids, batch, keys, TokenEncoder(keys))


def encode_unit_columns(
    pids: Sequence[str], owners: Sequence[int], batch: IdentityColumns, keys: ProjectKeys
) -> pa.RecordBatch:
    """One token-batch row per *unit* (an agency person) with several identity versions.

    ``batch`` holds one row per version; ``owners[i]`` is the index into ``pids`` of the
    unit version row ``i`` belongs to. A unit's versions are adjacent, its primary (most
    recent) version first, at most :data:`protocol.unit_tokens.MAX_VERSIONS_PER_UNIT` of
    them. Per rule the unit's real tokens are its versions' taken round-robin, each once,
    then cut or padded to the rule's fixed length with dummies keyed by the unit's pid; a
    rule emits when any version does; the Bloom filters are the primary version's
    (:mod:`protocol.unit_tokens`). A unit with one version gets exactly the row
    :func:`encode_columns` gives its record. Raises
    :class:`~protocol.errors.EncodingError` for a pid that is not a pseudonym or owners
    that break these rules.
    """
    return _encode(pids, batch, keys, TokenEncoder(keys), owners=owners)


def encode_batch(records: Iterable[Record], keys: ProjectKeys) -> pa.RecordBatch:
    """Encode ``(pid, identity)`` pairs into one token batch (one row per record, in order).

    ``pid`` is the record's :func:`~protocol.keys.pseudonymous_id` for this project, computed
    by the node. Raises :class:`~protocol.errors.EncodingError` for a pid that is not one.
    """
    return _encode_records(list(records), keys, TokenEncoder(keys))


def encode_batches(
    records: Iterable[Record], keys: ProjectKeys, batch_size: int = DEFAULT_BATCH_SIZE
) -> Iterator[pa.RecordBatch]:
    """Encode a stream of records lazily, ``batch_size`` rows per batch (last one shorter).

    Memory stays bounded by one batch, so a node can stream millions of records into an
    Arrow IPC response.
    """
    if batch_size < 1:
        raise EncodingError("batch_size must be at least 1")
    encoder = TokenEncoder(keys)
    iterator = iter(records)
    while chunk := list(islice(iterator, batch_size)):
        yield _encode_records(chunk, keys, encoder)
