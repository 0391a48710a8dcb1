"""Compound deterministic match keys and blocking keys.

A token is keyed BLAKE2b-128(sub-key, "fedlink/1|<kind>|<rule>|" ‖ framed parts), a PRF
with a 16-byte output (:class:`~protocol.keys.KeyedBlake2b`): the rule name inside the
MAC input separates the rules' domains, the framing (:func:`protocol.keys.frame`) makes
the parts unambiguous, and the sub-key (match or blocking, from
:class:`~protocol.keys.ProjectKeys`) is per project. The rules are the
tables of :mod:`protocol.token_rules`; the framed parts come from :mod:`protocol.token_parts`.

Every rule is *compound* and includes a part derived from a name or from the SSN, so a
low-entropy value (sex, birth year, ZIP, house number, even a full date of birth) never
becomes a token on its own (docs/trust-model.md, rule 7); the one exception is the full date of
birth together with the ZIP5 (``dob_zip5``, :data:`~protocol.token_rules.NAME_FREE_RULE_PARTS`).
A rule emits only when the primary value of each of its parts is present. Within a rule,
extra tokens cover errors agencies really make, on the parts the rule lists as *varied*:

- ``first`` → also each nickname canonical form (``BILL`` → ``WILLIAM``) and the middle
  name (people known by their middle name; first and middle swapped);
- ``last`` → also each part of a compound surname (``GARCIALOPEZ`` → ``GARCIA``, ``LOPEZ``);
- ``dob`` → also the day/month swap, when the day is ≤ 12 and differs from the month.

Variants are substituted *one part at a time* around the primary token, not as a cross
product: both records of a pair emit variants, so one error on each side is still covered
while the token count grows linearly. Each rule emits at most :data:`MAX_TOKENS_PER_RULE`
tokens, the primary one first. First/last swaps are covered without extra variants: an
*unordered* rule frames its two name parts in byte order, so both orders give one token;
a *swap* rule also emits the token with the names exchanged, and emits that one alone when
only the other name is present. The rules and the reason for each are in
``docs/tokens-and-bloom-filters.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import compress, repeat
from types import MappingProxyType
from typing import Final, NamedTuple

import numpy as np
import numpy.typing as npt

from protocol.columns import IdentityColumns
from protocol.identity import NormalizedIdentity
from protocol.keys import KeyedBlake2b, ProjectKeys
from protocol.token_parts import PART_SOURCES, Columns
from protocol.token_rules import (
    BLOCKING_KEY_RULES,
    BLOCKING_KEY_SPECS,
    IDENTIFYING_PARTS,
    MATCH_KEY_RULES,
    MATCH_KEY_SPECS,
    MAX_TOKENS_PER_RULE,
    Rule,
    swapped_part,
    unordered_pair,
)

__all__ = [
    "BLOCKING_KEY_RULES",
    "BLOCKING_KEY_SPECS",
    "IDENTIFYING_PARTS",
    "MATCH_KEY_RULES",
    "MATCH_KEY_SPECS",
    "MAX_TOKENS_PER_RULE",
    "TOKEN_BYTES",
    "TOKEN_PRF",
    "Rule",
    "RuleTokens",
    "TokenEncoder",
    "blocking_keys",
    "match_keys",
]

TOKEN_BYTES: Final = 16
#: Names the token construction; in every token batch's schema metadata.
TOKEN_PRF: Final = "blake2b-128"  # noqa: S105 - an algorithm name, not a secret
CountArray = npt.NDArray[np.int32]


def _tokens(prf: KeyedBlake2b, messages: list[bytes]) -> bytes:
    """The 16-byte tokens of ``messages``, concatenated."""
    return prf.digest_many(messages)


class _CompiledRule(NamedTuple):
    label: bytes
    parts: tuple[str, ...]
    varied: tuple[int, ...]  # indexes into parts
    pair: tuple[int, int] | None  # the name parts an unordered rule sorts
    swapped: tuple[str, ...] | None  # the parts of the swap token, for a rule with one


def _compile(kind: str, specs: MappingProxyType[str, Rule]) -> list[_CompiledRule]:
    return [
        _CompiledRule(
            f"fedlink/1|{kind}|{name}|".encode(),
            rule.parts,
            tuple(rule.parts.index(p) for p in rule.varied),
            unordered_pair(rule) if rule.unordered else None,
            tuple(swapped_part(p) for p in rule.parts) if rule.swap else None,
        )
        for name, rule in specs.items()
    ]


_MATCH_RULES: Final = _compile("mk", MATCH_KEY_SPECS)
_BLOCKING_RULES: Final = _compile("bk", BLOCKING_KEY_SPECS)


def _rebuilt(
    rule: _CompiledRule, cols: list[list[bytes]], record: int, pos: int, value: bytes
) -> bytes:
    """The message of ``record`` with part number ``pos`` replaced by ``value`` (for an
    unordered rule, the two name parts put back in canonical order)."""
    parts = [c[record] for c in cols]
    parts[pos] = value
    if rule.pair is not None:
        a, b = rule.pair
        parts[a], parts[b] = min(parts[a], parts[b]), max(parts[a], parts[b])
    return rule.label + b"".join(parts)


def _messages(rule: _CompiledRule, columns: Columns) -> tuple[list[bytes], CountArray]:
    """MAC inputs of one rule for every record, in record order, and the count per record.

    Per record: the primary parts, then each variant substituted one part at a time, capped
    at :data:`MAX_TOKENS_PER_RULE`. Variants equal to the primary value or to an earlier
    variant are skipped; distinct part tuples give distinct messages (the framing is
    injective). An unordered rule frames its two name parts smaller first (as bytes), so
    swapping the first and last name gives the same message.
    """
    label = rule.label
    cols = [columns.primary[p] for p in rule.parts]
    present = columns.present[rule.parts[0]]
    for p in rule.parts[1:]:
        present = present & columns.present[p]
    ordered = cols
    if rule.pair is not None:
        a, b = rule.pair
        ordered = list(cols)
        ordered[a], ordered[b] = list(map(min, cols[a], cols[b])), list(map(max, cols[a], cols[b]))
    joined = list(map(b"".join, zip(repeat(label), *ordered)))
    flags = present.tolist()
    primaries = list(compress(joined, flags))
    counts = present.astype(np.int32)
    extras: list[bytes] = []
    owners: list[int] = []
    add_extra, add_owner = extras.append, owners.append
    if rule.swapped is not None:
        # The swap token is emitted whenever its own parts are present (a record without a
        # first name still has its last name in first-name position); never twice.
        swap_present = columns.present[rule.swapped[0]]
        for p in rule.swapped[1:]:
            swap_present = swap_present & columns.present[p]
        swap_columns = [columns.primary[p] for p in rule.swapped]
        swapped = list(map(b"".join, zip(repeat(label), *swap_columns)))
        for record in compress(range(len(flags)), swap_present.tolist()):
            swap = swapped[record]
            if not flags[record] or swap != joined[record]:  # equal when first == last
                add_extra(swap)
                add_owner(record)
    # Unordered rules only: a first-name and a last-name variant coincide once sorted
    # when the two name parts are equal ({V, X} from both sides); track those records.
    seen: dict[int, set[bytes]] = {}
    if rule.pair is not None and rule.varied:
        a, b = rule.pair
        same = map(bytes.__eq__, cols[a], cols[b])
        seen = {i: {joined[i]} for i in compress(range(len(flags)), same) if flags[i]}
    for pos in rule.varied:
        source, j = PART_SOURCES[rule.parts[pos]]
        column = cols[pos]
        for record, bundles in columns.alternatives[source].items():
            if not flags[record]:
                continue  # another part is missing: the rule does not emit at all
            part = column[record]
            values = (bundles[0][j],) if len(bundles) == 1 else dict.fromkeys(b[j] for b in bundles)
            for value in values:
                if value == part:
                    continue
                message = joined[record]
                if rule.pair is None and message.count(part) == 1:
                    # The part's only occurrence is the part itself: a C-level replace is exact.
                    message = message.replace(part, value)
                elif rule.pair == (0, 1):
                    # Unordered names first: label, the sorted pair, then the primary's tail.
                    other = cols[1 - pos][record]
                    tail = message[len(label) + len(cols[0][record]) + len(cols[1][record]) :]
                    low, high = (value, other) if value < other else (other, value)
                    message = label + low + high + tail
                else:
                    message = _rebuilt(rule, cols, record, pos, value)
                if record in seen:
                    if message in seen[record]:
                        continue
                    seen[record].add(message)
                add_extra(message)
                add_owner(record)
    if not extras:
        return primaries, counts
    # Put each record's variants right after its primary message: a stable sort on the
    # owning record keeps primaries first and variants in rule order.
    owner = np.concatenate([np.flatnonzero(present), np.asarray(owners, dtype=np.int64)])
    order = np.argsort(owner, kind="stable")
    everything = primaries + extras
    messages = [everything[i] for i in order.tolist()]
    counts = np.bincount(owner, minlength=len(flags)).astype(np.int32)
    if counts.max() > MAX_TOKENS_PER_RULE:
        messages, counts = _capped(messages, counts)
    return messages, counts


def _capped(messages: list[bytes], counts: CountArray) -> tuple[list[bytes], CountArray]:
    """Keep each record's first :data:`MAX_TOKENS_PER_RULE` messages (primary first)."""
    kept: list[bytes] = []
    offset = 0
    for count in counts.tolist():
        kept.extend(messages[offset : offset + min(count, MAX_TOKENS_PER_RULE)])
        offset += count
    return kept, np.minimum(counts, MAX_TOKENS_PER_RULE).astype(np.int32)


class RuleTokens(NamedTuple):
    """One rule's tokens for a batch of records."""

    #: Every token (16 bytes each), record after record.
    tokens: bytes
    #: How many tokens each record has (0 when the rule did not emit for it).
    counts: CountArray

    def per_record(self) -> list[tuple[bytes, ...]]:
        """The tokens split back into one tuple per record."""
        out: list[tuple[bytes, ...]] = []
        offset = 0
        for count in self.counts.tolist():
            end = offset + count * TOKEN_BYTES
            out.append(
                tuple(self.tokens[o : o + TOKEN_BYTES] for o in range(offset, end, TOKEN_BYTES))
            )
            offset = end
        return out


class TokenEncoder:
    """The match-key and blocking-key rules bound to one project's keys.

    Build once per batch stream and reuse: the keyed BLAKE2b states are computed once.
    """

    __slots__ = ("_blocking_prf", "_match_prf")

    def __init__(self, keys: ProjectKeys) -> None:
        self._match_prf = KeyedBlake2b(keys.match_token_key, TOKEN_BYTES)
        self._blocking_prf = KeyedBlake2b(keys.blocking_token_key, TOKEN_BYTES)

    def encode_many(
        self, identities: Sequence[NormalizedIdentity]
    ) -> tuple[list[RuleTokens], list[RuleTokens]]:
        """``(match, blocking)`` tokens of a batch: one :class:`RuleTokens` per rule, in order."""
        return self.encode_columns(IdentityColumns.of(identities))

    def encode_columns(
        self, batch: IdentityColumns, columns: Columns | None = None
    ) -> tuple[list[RuleTokens], list[RuleTokens]]:
        """:meth:`encode_many` of a batch already split into columns (``columns``: its
        framed parts, if the caller built them)."""
        if columns is None:
            columns = Columns(batch)
        match = [_rule_tokens(self._match_prf, rule, columns) for rule in _MATCH_RULES]
        blocking = [_rule_tokens(self._blocking_prf, rule, columns) for rule in _BLOCKING_RULES]
        return match, blocking


def _rule_tokens(prf: KeyedBlake2b, rule: _CompiledRule, columns: Columns) -> RuleTokens:
    messages, counts = _messages(rule, columns)
    return RuleTokens(_tokens(prf, messages), counts)


def match_keys(identity: NormalizedIdentity, keys: ProjectKeys) -> dict[str, tuple[bytes, ...]]:
    """Every match-key rule → its 16-byte tokens for ``identity`` (empty if not emitted)."""
    match, _ = TokenEncoder(keys).encode_many([identity])
    return {rule: t.per_record()[0] for rule, t in zip(MATCH_KEY_RULES, match, strict=True)}


def blocking_keys(identity: NormalizedIdentity, keys: ProjectKeys) -> dict[str, tuple[bytes, ...]]:
    """Every blocking-key rule → its 16-byte tokens for ``identity`` (empty if not emitted)."""
    _, blocking = TokenEncoder(keys).encode_many([identity])
    return {rule: t.per_record()[0] for rule, t in zip(BLOCKING_KEY_RULES, blocking, strict=True)}
