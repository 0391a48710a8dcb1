"""Units with several identity versions (an agency person's rows): one token-batch row per
unit, the versions' tokens merged round-robin into the fixed-length lists."""

from __future__ import annotations

import dataclasses
import datetime as dt
from itertools import zip_longest

import numpy as np
import pyarrow as pa
import pytest

from protocol.columns import IdentityColumns
from protocol.encoding import encode_columns, encode_unit_columns, token_batch_schema
from protocol.errors import EncodingError
from protocol.identity import NormalizedIdentity, Sex
from protocol.keys import ProjectKeys, derive_project_keys, person_pseudonymous_ids
from protocol.token_padding import TOKENS_PER_RULE, dummy_key, fixed_length, pid_bytes
from protocol.tokens import (
    BLOCKING_KEY_RULES,
    MATCH_KEY_RULES,
    RuleTokens,
    blocking_keys,
    match_keys,
)
from protocol.unit_tokens import MAX_VERSIONS_PER_UNIT

NODE_KEY = b"\x35" * 32
RULES = (*MATCH_KEY_RULES, *BLOCKING_KEY_RULES)
TOKEN_COLUMNS = [f"mk_{r}" for r in MATCH_KEY_RULES] + [f"bk_{r}" for r in BLOCKING_KEY_RULES]


@pytest.fixture(scope="module")
def keys() -> ProjectKeys:
    return derive_project_keys(b"\x46" * 32, b"unit-encoding-salt-0123456789abc",
                               project_id="P-units", project_digest="cd" * 32)


def pids(n: int, prefix: str = "S") -> list[str]:
    return person_pseudonymous_ids(NODE_KEY, "P-units", [f"{prefix}{i:04d}" for i in range(n)])


#: One person over time: married name and new address (primary, most recent), a nickname
#: row, then the maiden name at the first address.
MARRIED = NormalizedIdentity(
    first_name="KATHERINE", first_name_canonical=("KATHERINE",), middle_name="ROSALIND",
    last_name="WHITFIELDMORA", last_name_parts=("WHITFIELD", "MORA"), dob=dt.date(1998, 5, 9),
    sex=Sex.FEMALE, ssn="512447781", postal_code="22903", street_address="18 LARKSPUR LN",
    city="CHARLOTTESVILLE")
NICKNAME = dataclasses.replace(MARRIED, first_name="KATE", first_name_canonical=("KATHERINE",))
MAIDEN = dataclasses.replace(MARRIED, last_name="WHITFIELD", last_name_parts=(),
                             postal_code="24060", street_address="702 OAKMONT DR",
                             city="BLACKSBURG", ssn=None)
OTHER = NormalizedIdentity(first_name="TOBIAS", last_name="ABERNATHY", dob=dt.date(2001, 2, 3),
                           sex=Sex.MALE, postal_code="23220", street_address="9 ELM ST")


def real_tokens(identity: NormalizedIdentity, keys: ProjectKeys) -> dict[str, tuple[bytes, ...]]:
    return {**match_keys(identity, keys), **blocking_keys(identity, keys)}


def round_robin(versions: list[tuple[bytes, ...]]) -> list[bytes]:
    """The expected union, written independently of the encoder: rank by rank, version
    by version, each token once."""
    out: list[bytes] = []
    for rank in zip_longest(*versions):
        for token in rank:
            if token is not None and token not in out:
                out.append(token)
    return out


def padded(rule: str, real: list[bytes], pid: str, keys: ProjectKeys) -> list[bytes]:
    tokens = RuleTokens(b"".join(real), np.array([len(real)], dtype=np.int32))
    fixed = fixed_length(rule, tokens, pid_bytes([pid]), dummy_key(keys.match_token_key))
    return list(fixed.per_record()[0])


def test_unit_with_one_version_is_byte_for_byte_todays_row(keys: ProjectKeys) -> None:
    identities = [MARRIED, OTHER, NormalizedIdentity(), MAIDEN]
    batch = IdentityColumns.of(identities)
    ids = pids(4)
    unit = encode_unit_columns(ids, [0, 1, 2, 3], batch, keys)
    assert unit.equals(encode_columns(ids, batch, keys))
    assert unit.schema.equals(token_batch_schema(), check_metadata=True)


def test_unit_tokens_are_the_round_robin_union_of_its_versions(keys: ProjectKeys) -> None:
    versions = [MARRIED, NICKNAME, MAIDEN]
    (pid,) = pids(1)
    row = encode_unit_columns([pid], [0, 0, 0], IdentityColumns.of(versions), keys).to_pylist()[0]
    per_version = [real_tokens(v, keys) for v in versions]
    cut_somewhere = False
    for rule, column in zip(RULES, TOKEN_COLUMNS, strict=True):
        union = round_robin([tokens[rule] for tokens in per_version])
        cut_somewhere |= len(union) > TOKENS_PER_RULE[rule]
        # The union is cut at the rule's length, then padded with dummies keyed by the
        # unit's pid and sorted, exactly as a record's list is.
        assert row[column] == padded(rule, union, pid, keys), rule
    assert cut_somewhere, "the versions must give some rule more tokens than its list holds"
    # Each version's primary token survives the cut (round-robin puts them first).
    for tokens in per_version:
        assert tokens["name_dob_sex"][0] in row["mk_name_dob_sex"]


def test_married_and_maiden_versions_both_match(keys: ProjectKeys) -> None:
    (pid,) = pids(1)
    row = encode_unit_columns([pid], [0, 0], IdentityColumns.of([MARRIED, MAIDEN]),
                              keys).to_pylist()[0]
    # Another agency holding only the maiden name (or only the married one) shares a token.
    for single in (MAIDEN, MARRIED):
        assert set(match_keys(single, keys)["name_dob_sex"]) & set(row["mk_name_dob_sex"])


def test_list_lengths_do_not_tell_how_many_versions(keys: ProjectKeys) -> None:
    batch = IdentityColumns.of([MARRIED, MARRIED, NICKNAME, MAIDEN])
    one, three = encode_unit_columns(pids(2), [0, 1, 1, 1], batch, keys).to_pylist()
    for column in TOKEN_COLUMNS:
        assert len(one[column]) == len(three[column]) == TOKENS_PER_RULE[column[3:]], column


def test_dummies_are_keyed_by_the_unit_pid(keys: ProjectKeys) -> None:
    moved = dataclasses.replace(OTHER, postal_code="22030", street_address="4 BIRCH CT")
    batch = IdentityColumns.of([OTHER, moved, OTHER, moved])
    ids = pids(2)
    a, b = encode_unit_columns(ids, [0, 0, 1, 1], batch, keys).to_pylist()
    for rule, column in zip(RULES, TOKEN_COLUMNS, strict=True):
        real = round_robin([real_tokens(v, keys)[rule] for v in (OTHER, moved)])
        if not real:
            continue
        # Same versions under two unit pids: the real tokens agree, the dummies never do.
        assert set(a[column]) & set(b[column]) == set(real[:TOKENS_PER_RULE[rule]]), rule
        assert a[column] == padded(rule, real, ids[0], keys)
        assert b[column] == padded(rule, real, ids[1], keys)
    assert len(real_tokens(OTHER, keys)["name_dob_sex"]) < TOKENS_PER_RULE["name_dob_sex"]


def test_rule_emits_when_any_version_emits(keys: ProjectKeys) -> None:
    # The maiden version has no SSN; the married one does: the unit carries SSN tokens,
    # whichever version is primary.
    for order in ([MAIDEN, MARRIED], [MARRIED, MAIDEN]):
        (pid,) = pids(1)
        row = encode_unit_columns([pid], [0, 0], IdentityColumns.of(order), keys).to_pylist()[0]
        assert len(row["bk_ssn"]) == TOKENS_PER_RULE["ssn"]
        assert real_tokens(MARRIED, keys)["ssn"][0] in row["bk_ssn"]
    nothing = encode_unit_columns(pids(1), [0, 0], IdentityColumns.of([OTHER, OTHER]),
                                  keys).to_pylist()[0]
    assert nothing["bk_ssn"] == [] and nothing["mk_ssn_dob"] == []


def test_bloom_filters_are_the_primary_versions(keys: ProjectKeys) -> None:
    (pid,) = pids(1)
    unit = encode_unit_columns([pid], [0, 0, 0], IdentityColumns.of([MAIDEN, MARRIED, NICKNAME]),
                               keys)
    alone = encode_columns([pid], IdentityColumns.of([MAIDEN]), keys)
    filters = [n for n in unit.schema.names if n.startswith("bf_")]
    assert filters
    assert unit.select(filters).equals(alone.select(filters))


def test_mixed_batch_equals_each_unit_encoded_alone(keys: ProjectKeys) -> None:
    units = [[MARRIED], [MAIDEN, OTHER, NICKNAME], [NormalizedIdentity()],
             [OTHER, MARRIED], [NormalizedIdentity(), MAIDEN]]
    ids = pids(len(units))
    owners = [u for u, versions in enumerate(units) for _ in versions]
    flat = [v for versions in units for v in versions]
    together = encode_unit_columns(ids, owners, IdentityColumns.of(flat), keys)
    alone = [encode_unit_columns([pid], [0] * len(v), IdentityColumns.of(v), keys)
             for pid, v in zip(ids, units, strict=True)]
    assert together.equals(pa.Table.from_batches(alone).combine_chunks().to_batches()[0])


@pytest.mark.parametrize(("owners", "units", "message"), [
    ([0, 0, 1], 3, "in order"),                 # the last unit has no version
    ([0, 2, 2], 3, "in order"),                 # unit 1 has no version
    ([1, 1, 0], 2, "in order"),                 # not starting at 0
    ([0, 1, 0], 2, "in order"),                 # versions of unit 0 not adjacent
    ([0, 0], 1, "one unit index per"),          # fewer owners than rows
    ([0] * (MAX_VERSIONS_PER_UNIT + 1), 1, "at most"),
])
def test_malformed_owners_refused(
    keys: ProjectKeys, owners: list[int], units: int, message: str
) -> None:
    rows = 3 if message != "at most" else MAX_VERSIONS_PER_UNIT + 1
    batch = IdentityColumns.of([OTHER] * rows)
    with pytest.raises(EncodingError, match=message):
        encode_unit_columns(pids(units), owners, batch, keys)


def test_unit_pid_must_be_a_pseudonym(keys: ProjectKeys) -> None:
    with pytest.raises(EncodingError, match="pseudonym"):
        encode_unit_columns(["S0001"], [0, 0], IdentityColumns.of([OTHER, MAIDEN]), keys)


def test_empty_unit_batch(keys: ProjectKeys) -> None:
    batch = encode_unit_columns([], [], IdentityColumns.of([]), keys)
    assert batch.num_rows == 0 and batch.schema.equals(token_batch_schema())
