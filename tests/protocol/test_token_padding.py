"""Token lists of one fixed length per rule (protocol.token_padding)."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from protocol.columns import IdentityColumns
from protocol.encoding import encode_batch
from protocol.errors import EncodingError
from protocol.identity import NormalizedIdentity, Sex
from protocol.keys import derive_project_keys, pseudonymous_id
from protocol.token_padding import TOKENS_PER_RULE, dummy_key, fixed_length, pid_bytes
from protocol.tokens import BLOCKING_KEY_RULES, MATCH_KEY_RULES, TokenEncoder

KEYS = derive_project_keys(b"\x61" * 32, b"token-padding-test-salt-01234567",
    project_id="P-test", project_digest="ab" * 32)


def identities(n: int, seed: int = 5) -> list[NormalizedIdentity]:
    """Identities with every kind of variant: nicknames, middle names, compound
    surnames, birth days ≤ 12 (day/month swaps), missing SSNs."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        first = rng.choice(["WILLIAM", "ROBERT", "ZEBULON", "ELIZABETH", "JO", "ANA"])
        nick = {"WILLIAM": ("BILL",), "ROBERT": ("BOB", "ROB"), "ELIZABETH": ("BETH", "LIZ")}
        last = rng.choice(["GARCIALOPEZ", "SMITH", "NGUYEN", "OKONKWOADEBAYO"])
        parts = ("GARCIA", "LOPEZ") if last == "GARCIALOPEZ" else ()
        out.append(
            NormalizedIdentity(
                first_name=first,
                first_name_canonical=nick.get(first, ()) if rng.random() < 0.5 else (),
                middle_name=rng.choice([None, "MARIE", "J", "ALEXANDER"]),
                last_name=last,
                last_name_parts=parts,
                dob=dt.date(rng.randint(1950, 2010), rng.randint(1, 12), rng.randint(1, 28)),
                sex=rng.choice([Sex.MALE, Sex.FEMALE]),
                ssn=rng.choice([None, f"{rng.randint(100, 665)}45{rng.randint(1000, 9999)}"]),
                postal_code="23220",
                street_address=f"{rng.randint(1, 999)} MAIN ST",
            )
        )
    return out


def test_every_rule_has_a_fixed_length():
    assert set(TOKENS_PER_RULE) == set(MATCH_KEY_RULES) | set(BLOCKING_KEY_RULES)
    assert all(n >= 1 for n in TOKENS_PER_RULE.values())


def test_list_lengths_do_not_depend_on_the_values():
    """Over many identities with and without variants, each rule sends either nothing
    (a part is missing) or exactly its fixed number of tokens — so the count no longer
    tells a birth day ≤ 12, a nickname, a middle name or a compound surname."""
    people = identities(3000)
    pids = [pseudonymous_id(b"\x01" * 32, "P", f"R{i}") for i in range(len(people))]
    batch = encode_batch(list(zip(pids, people, strict=True)), KEYS)
    unpadded_lengths: dict[str, set[int]] = {}
    raw_match, raw_blocking = TokenEncoder(KEYS).encode_columns(IdentityColumns.of(people))
    for rule, raw in zip((*MATCH_KEY_RULES, *BLOCKING_KEY_RULES), (*raw_match, *raw_blocking),
                         strict=True):
        unpadded_lengths[rule] = set(raw.counts.tolist())
    for kind, rules in (("mk", MATCH_KEY_RULES), ("bk", BLOCKING_KEY_RULES)):
        for rule in rules:
            lengths = set(batch.column(f"{kind}_{rule}").value_lengths().to_pylist())
            assert lengths <= {0, TOKENS_PER_RULE[rule]}, rule
    # The identities do exercise variants: before padding the lengths varied.
    assert len(unpadded_lengths["name_dob_sex"] - {0}) > 1
    assert unpadded_lengths["ssn_dob"] - {0} == {1, 2}


def test_cut_keeps_the_primary_token_and_lists_are_sorted():
    people = identities(200)
    raw, _ = TokenEncoder(KEYS).encode_columns(IdentityColumns.of(people))
    pids = pid_bytes([pseudonymous_id(b"\x01" * 32, "P", f"R{i}") for i in range(len(people))])
    padded = fixed_length("ssn_dob", raw[MATCH_KEY_RULES.index("ssn_dob")], pids,
                          dummy_key(KEYS.match_token_key))
    per_record = padded.per_record()
    original = raw[MATCH_KEY_RULES.index("ssn_dob")].per_record()
    for sent, real in zip(per_record, original, strict=True):
        assert list(sent) == sorted(sent)
        if real:
            assert real[0] in sent and len(sent) == TOKENS_PER_RULE["ssn_dob"]
        else:
            assert sent == ()


def test_unknown_rule_refused():
    raw, _ = TokenEncoder(KEYS).encode_columns(IdentityColumns.of(identities(2)))
    with pytest.raises(EncodingError, match="no fixed token count"):
        fixed_length("made_up", raw[0], pid_bytes(["0" * 32, "1" * 32]), b"\x00" * 32)
