"""Token lists of one fixed length per rule: nothing about a value in a list's length.

A rule's list used to be as long as the record's variants made it: ``ssn_dob`` carried two
tokens exactly when the birth day was ≤ 12 and differed from the month, ``name_dob_sex``
counted nicknames, a middle name and compound-surname parts. The attack suite read those
facts straight off the lengths (``docs/privacy.md``). Now every rule that emits sends
exactly :data:`TOKENS_PER_RULE` tokens: the real ones (primary first, variants after,
cut at the length — a record with more variants loses the last ones), then keyed dummies,
the whole list sorted by value so a token's place says nothing either.

A dummy is AES-256(dummy key, pid[:12] ‖ rule number ‖ slot): a pseudo-random 16-byte
string under a project sub-key the hub never holds, different for every record, rule
and slot, so it never agrees with anything and cannot be told from a real token that
found no partner. A rule that does not emit (a part is missing) still sends an empty
list: the hub learns which fields a record lacks, as it does from null filters, and the
linkage model needs that ("unknown" is not "differs").

The lengths cover 99.9 % of the synthetic federation's records in full (measured with
``protocol.tokens.TokenEncoder`` on ``fedlink synth --people 20000``; 0.2 % of records
lose a nickname or compound-surname variant of ``name_dob_sex``).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from types import MappingProxyType
from typing import Final

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

from protocol.errors import EncodingError
from protocol.token_rules import BLOCKING_KEY_RULES, MATCH_KEY_RULES
from protocol.tokens import TOKEN_BYTES, RuleTokens

#: Tokens every emitting rule sends.
TOKENS_PER_RULE: Final = MappingProxyType(
    {
        "name_dob_sex": 6,
        "phonetic_name_dob": 5,
        "ssn_dob": 2,
        "ssn_initial_last": 1,
        "prefix_names_birth_month": 1,
        "ssn": 1,
        "name_prefix_dob": 2,
        "initial_street_zip": 2,
        "prefixes_house": 1,
        "dob_zip5": 1,
    }
)
_RULE_NUMBER: Final = {r: i for i, r in enumerate((*MATCH_KEY_RULES, *BLOCKING_KEY_RULES))}


@lru_cache(maxsize=16)
def dummy_key(match_token_key: bytes) -> bytes:
    """The AES-256 key of the dummy tokens, from the project's match-token sub-key."""
    return HKDFExpand(algorithm=SHA256(), length=32, info=b"fedlink/2 dummy tokens").derive(
        match_token_key
    )


def pid_bytes(pids: Sequence[str]) -> np.ndarray:
    """``(n, 16)`` uint8: the pseudonyms (32 hex digits each, checked by the caller)."""
    raw = bytes.fromhex("".join(pids)) if pids else b""
    return np.frombuffer(raw, dtype=np.uint8).reshape(len(pids), 16)


def fixed_length(rule: str, tokens: RuleTokens, pids: np.ndarray, key: bytes) -> RuleTokens:
    """``tokens`` of ``rule`` with every non-empty list cut or padded to its fixed length,
    each list sorted. ``pids`` is :func:`pid_bytes` of the same records."""
    if rule not in TOKENS_PER_RULE:
        raise EncodingError(f"no fixed token count is defined for rule {rule!r}")
    length = TOKENS_PER_RULE[rule]
    counts = tokens.counts.astype(np.int64)
    emitting = counts > 0
    real = np.frombuffer(tokens.tokens, dtype=np.uint8).reshape(-1, TOKEN_BYTES)
    rows = np.flatnonzero(emitting)
    blocks = np.zeros((len(rows), length, 16), dtype=np.uint8)
    blocks[:, :, :12] = pids[rows, None, :12]
    blocks[:, :, 12] = _RULE_NUMBER[rule]
    blocks[:, :, 14] = np.arange(length, dtype=np.uint8)
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()  # noqa: S305 - a PRF on distinct blocks
    out = np.frombuffer(encryptor.update(blocks.tobytes()), dtype=np.uint8).copy()
    out = out.reshape(len(rows), length, TOKEN_BYTES)
    # Real tokens over the first slots: record r's j-th token, j < min(count, length).
    starts = np.cumsum(counts) - counts
    kept = np.minimum(counts[rows], length)
    owner = np.repeat(np.arange(len(rows)), kept)
    slot = np.arange(owner.size) - np.repeat(np.cumsum(kept) - kept, kept)
    out[owner, slot] = real[starts[rows][owner] + slot]
    # Sorted by the first 8 bytes: a token's place in the list says nothing.
    order = np.argsort(out[:, :, :8].copy().view(">u8")[:, :, 0], axis=1, kind="stable")
    out = np.take_along_axis(out, order[:, :, None], axis=1)
    new_counts = np.where(emitting, length, 0).astype(np.int32)
    return RuleTokens(out.tobytes(), new_counts)
