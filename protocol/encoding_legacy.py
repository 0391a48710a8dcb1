"""The encoding every node sent before the hardening of 2026-12 (``fedlink/1`` token batches).

Kept for one purpose only: the attack suite (:mod:`fedlink.attack`) measures it as the
*baseline row* beside the current encoding, so every privacy figure of the current one
is shown next to what the same attacks do to an encoding they are known to break
(``docs/privacy-attacks.md``). No node or hub path uses it, and a hub refuses its batches:
their schema differs from :func:`protocol.encoding.token_batch_schema`.

What it is: the same pseudonym and token columns as today, but each rule's token list as
long as the record's variants make it (its length leaks them), and one deterministic,
field-level keyed Bloom filter per field (:mod:`protocol.bloom`), equal for equal values
(so filter frequencies follow name frequencies), null when the field is missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import pyarrow as pa

from protocol import PROTOCOL_VERSION
from protocol.bloom import BLOOM_BYTES, BLOOM_FIELDS, bloom_encode_many
from protocol.columns import IdentityColumns
from protocol.encoding import (
    TOKEN_LIST_TYPE,
    address_value,
    filter_column,
    middle_value,
    pid_array,
    token_column,
)
from protocol.errors import EncodingError
from protocol.keys import ProjectKeys
from protocol.tokens import (
    BLOCKING_KEY_RULES,
    MATCH_KEY_RULES,
    TOKEN_BYTES,
    TOKEN_PRF,
    TokenEncoder,
)

LEGACY_SCHEME: Final = "fedlink/1 field-level bloom"
_BLOOM_TYPE: Final = pa.binary(BLOOM_BYTES)


def legacy_batch_schema() -> pa.Schema:
    """The ``fedlink/1`` token batch schema: variable-length token lists, ``bf_`` filters."""
    fields = [pa.field("pid", pa.string(), nullable=False)]
    fields += [pa.field(f"mk_{r}", TOKEN_LIST_TYPE, nullable=False) for r in MATCH_KEY_RULES]
    fields += [pa.field(f"bk_{r}", TOKEN_LIST_TYPE, nullable=False) for r in BLOCKING_KEY_RULES]
    fields += [pa.field(f"bf_{f}", _BLOOM_TYPE, nullable=True) for f in BLOOM_FIELDS]
    return pa.schema(
        fields,
        metadata={
            "fedlink.protocol_version": PROTOCOL_VERSION,
            "fedlink.encoding": LEGACY_SCHEME,
            "fedlink.token_bytes": str(TOKEN_BYTES),
            "fedlink.bloom_bytes": str(BLOOM_BYTES),
            "fedlink.token_prf": TOKEN_PRF,
        },
    )


def encode_columns_legacy(
    pids: Sequence[str], batch: IdentityColumns, keys: ProjectKeys
) -> pa.RecordBatch:
    """Encode ``batch`` the ``fedlink/1`` way (one row per record, in order)."""
    pid_col = pid_array(pids)
    if len(pid_col) != batch.rows:
        raise EncodingError("pids and identities must have the same length")
    match, blocking = TokenEncoder(keys).encode_columns(batch)
    columns: list[pa.Array] = [pid_col]
    columns += [token_column(t) for t in match]
    columns += [token_column(t) for t in blocking]
    values: dict[str, list[str | None]] = {
        "first_name": batch.first_name,
        "last_name": batch.last_name,
        "address": list(map(address_value, batch.street_address, batch.postal_code, batch.city)),
        "middle_name": list(map(middle_value, batch.middle_name)),
        "first_name_as_last": batch.first_name,
    }
    columns += [filter_column(*bloom_encode_many(f, values[f], keys)) for f in BLOOM_FIELDS]
    return pa.RecordBatch.from_arrays(columns, schema=legacy_batch_schema())
