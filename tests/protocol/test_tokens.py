"""Compound match keys and blocking keys: determinism, variants, missing parts, entropy."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib

import jellyfish
import pytest

from protocol.identity import NormalizedIdentity, Sex
from protocol.keys import ProjectKeys, derive_project_keys, frame
from protocol.token_parts import PART_SOURCES, framed, house_number_part, street_prefix_part
from protocol.token_rules import NAME_FREE_RULE_PARTS, meets_trust_rule_7, unordered_pair
from protocol.tokens import (
    BLOCKING_KEY_RULES,
    BLOCKING_KEY_SPECS,
    IDENTIFYING_PARTS,
    MATCH_KEY_RULES,
    MATCH_KEY_SPECS,
    MAX_TOKENS_PER_RULE,
    TOKEN_BYTES,
    TokenEncoder,
    blocking_keys,
    match_keys,
)

SECRET = b"\x11" * 32
NAME_RULES = ("name_dob_sex", "phonetic_name_dob")
#: Rules that agree whichever field holds which name.
ORDER_FREE = ("phonetic_name_dob", "name_prefix_dob", "initial_street_zip", "prefixes_house")


def token_of(key: bytes, message: bytes) -> bytes:
    """The pinned token construction, written independently of protocol.keys."""
    return hashlib.blake2b(message, key=key, digest_size=16).digest()


@pytest.fixture(scope="module")
def keys() -> ProjectKeys:
    return derive_project_keys(SECRET, b"salt-of-project-one-0123456789ab",
        project_id="P-test", project_digest="ab" * 32)


@pytest.fixture(scope="module")
def other_keys() -> ProjectKeys:
    return derive_project_keys(SECRET, b"salt-of-project-two-0123456789ab",
        project_id="P-test", project_digest="ab" * 32)


def person(**changes: object) -> NormalizedIdentity:
    base = NormalizedIdentity(
        first_name="WILLIAM",
        middle_name="HENRY",
        last_name="SMITH",
        dob=dt.date(2004, 3, 7),
        sex=Sex.MALE,
        ssn="219099999",
        postal_code="23220",
        street_address="12 MAIN ST",
        city="RICHMOND",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def shared(a: dict[str, tuple[bytes, ...]], b: dict[str, tuple[bytes, ...]], rule: str) -> bool:
    return bool(set(a[rule]) & set(b[rule]))


def all_tokens(identity: NormalizedIdentity, keys: ProjectKeys) -> set[bytes]:
    out: set[bytes] = set()
    for tokens in (*match_keys(identity, keys).values(), *blocking_keys(identity, keys).values()):
        out.update(tokens)
    return out


def test_every_rule_is_reported_with_16_byte_tokens(keys: ProjectKeys) -> None:
    mk, bk = match_keys(person(), keys), blocking_keys(person(), keys)
    assert tuple(mk) == MATCH_KEY_RULES == tuple(MATCH_KEY_SPECS)
    assert tuple(bk) == BLOCKING_KEY_RULES == tuple(BLOCKING_KEY_SPECS)
    for tokens in (*mk.values(), *bk.values()):
        assert tokens, "a complete identity emits every rule"
        assert all(len(t) == TOKEN_BYTES for t in tokens)
        assert len(set(tokens)) == len(tokens)


def test_tokens_are_deterministic_for_one_project_key(keys: ProjectKeys) -> None:
    same_keys = derive_project_keys(SECRET, b"salt-of-project-one-0123456789ab",
        project_id="P-test", project_digest="ab" * 32)
    assert match_keys(person(), keys) == match_keys(person(), same_keys)
    assert blocking_keys(person(), keys) == blocking_keys(person(), same_keys)


def test_tokens_of_two_projects_never_coincide(keys: ProjectKeys, other_keys: ProjectKeys) -> None:
    assert not all_tokens(person(), keys) & all_tokens(person(), other_keys)


def test_match_and_blocking_domains_are_separate(keys: ProjectKeys) -> None:
    mk = {t for ts in match_keys(person(), keys).values() for t in ts}
    bk = {t for ts in blocking_keys(person(), keys).values() for t in ts}
    assert mk and bk and not mk & bk


def test_token_is_keyed_blake2b_128_over_rule_and_framed_parts(keys: ProjectKeys) -> None:
    # Pins the token construction: nodes on different versions must agree byte for byte.
    identity = person(middle_name=None, dob=dt.date(2004, 3, 17))
    message = b"fedlink/1|bk|ssn|9:219099999,"
    expected = token_of(keys.blocking_token_key, message)
    assert blocking_keys(identity, keys)["ssn"] == (expected,)
    message = b"fedlink/1|mk|name_dob_sex|7:WILLIAM,5:SMITH,10:2004-03-17,1:M,"
    expected = token_of(keys.match_token_key, message)
    assert match_keys(identity, keys)["name_dob_sex"] == (expected,)


def test_nickname_shares_name_keys_with_formal_name(keys: ProjectKeys) -> None:
    formal = match_keys(person(middle_name=None), keys)
    nickname = match_keys(
        person(first_name="BILL", first_name_canonical=("WILLIAM",), middle_name=None), keys
    )
    assert shared(formal, nickname, "name_dob_sex")
    assert shared(formal, nickname, "phonetic_name_dob")


def test_day_month_swap_shares_dob_keys(keys: ProjectKeys) -> None:
    right = match_keys(person(dob=dt.date(2004, 3, 7)), keys)
    swapped = match_keys(person(dob=dt.date(2004, 7, 3)), keys)
    assert shared(right, swapped, "name_dob_sex")
    assert shared(right, swapped, "ssn_dob")


@pytest.mark.parametrize("dob", [dt.date(2004, 3, 17), dt.date(2004, 5, 5)])
def test_no_swap_variant_when_day_over_12_or_equal_to_month(
    keys: ProjectKeys, dob: dt.date
) -> None:
    assert len(match_keys(person(dob=dob), keys)["ssn_dob"]) == 1


@pytest.mark.parametrize("parts", [("GARCIA", "LOPEZ"), ()])
def test_compound_surname_shares_keys_with_each_written_form(
    keys: ProjectKeys, parts: tuple[str, ...]
) -> None:
    formal = match_keys(person(last_name="GARCIALOPEZ", last_name_parts=("GARCIA", "LOPEZ")), keys)
    # The other agency wrote one part only, or the compound as a single word.
    for other in (
        person(last_name="GARCIA"),
        person(last_name="LOPEZ"),
        person(last_name="GARCIALOPEZ", last_name_parts=parts),
    ):
        theirs = match_keys(other, keys)
        assert shared(formal, theirs, "name_dob_sex")
        assert shared(formal, theirs, "phonetic_name_dob")


def test_first_middle_swap_shares_name_keys(keys: ProjectKeys) -> None:
    formal = match_keys(person(first_name="JOHN", middle_name="ROBERT"), keys)
    known_by_middle = match_keys(person(first_name="ROBERT", middle_name=None), keys)
    assert shared(formal, known_by_middle, "name_dob_sex")
    assert shared(formal, known_by_middle, "phonetic_name_dob")


def test_middle_initial_is_not_used_as_a_first_name(keys: ProjectKeys) -> None:
    with_initial = match_keys(person(middle_name="H", dob=dt.date(2004, 3, 17)), keys)
    assert len(with_initial["name_dob_sex"]) == 1


def test_primary_token_comes_first(keys: ProjectKeys) -> None:
    plain = match_keys(person(middle_name=None, dob=dt.date(2004, 3, 17)), keys)
    rich = match_keys(
        person(
            first_name_canonical=("WILL",),
            last_name="SMITHJONES",
            last_name_parts=("SMITH", "JONES"),
            dob=dt.date(2004, 3, 17),
        ),
        keys,
    )
    assert len(rich["name_dob_sex"]) > 1
    unchanged = person(middle_name=None, last_name="SMITHJONES", dob=dt.date(2004, 3, 17))
    assert rich["name_dob_sex"][0] == match_keys(unchanged, keys)["name_dob_sex"][0]
    assert plain["ssn_dob"] == rich["ssn_dob"]


def test_variants_are_capped_per_rule(keys: ProjectKeys) -> None:
    many = tuple(f"NAME{chr(65 + i)}" for i in range(20))
    identity = person(
        first_name_canonical=many, last_name="ABCDEF", last_name_parts=("ABC", "DEF", "XYZ")
    )
    for tokens in match_keys(identity, keys).values():
        assert 1 <= len(tokens) <= MAX_TOKENS_PER_RULE
    assert len(match_keys(identity, keys)["name_dob_sex"]) == MAX_TOKENS_PER_RULE


@pytest.mark.parametrize(
    ("missing", "silent_rules"),
    [
        ("sex", {"name_dob_sex"}),
        ("ssn", {"ssn_dob", "ssn_initial_last", "ssn"}),
        ("postal_code", {"initial_street_zip", "dob_zip5"}),
        ("street_address", {"initial_street_zip", "prefixes_house"}),
        # Either-name rules still emit from the other name.
        ("first_name", {"name_dob_sex", "phonetic_name_dob", "ssn_initial_last",
                        "prefix_names_birth_month", "prefixes_house"}),
        ("last_name", {"name_dob_sex", "phonetic_name_dob", "ssn_initial_last",
                       "prefix_names_birth_month", "prefixes_house"}),
        ("dob", {"name_dob_sex", "phonetic_name_dob", "ssn_dob", "prefix_names_birth_month",
                 "name_prefix_dob", "dob_zip5"}),
    ],
)  # fmt: skip
def test_rule_with_a_missing_part_emits_nothing(
    keys: ProjectKeys, missing: str, silent_rules: set[str]
) -> None:
    identity = person(**{missing: None})
    emitted = {**match_keys(identity, keys), **blocking_keys(identity, keys)}
    assert {rule for rule, tokens in emitted.items() if not tokens} == silent_rules


def test_low_entropy_values_alone_never_make_a_token(keys: ProjectKeys) -> None:
    # Sex, a full birth date (so birth year too), ZIP, city and a street address (so a
    # house number too), and nothing else: only the full date of birth with the ZIP5
    # (trust rule 7's one exception) makes a token.
    identity = NormalizedIdentity(
        sex=Sex.FEMALE,
        dob=dt.date(2010, 1, 2),
        postal_code="23220",
        city="RICHMOND",
        street_address="12 MAIN ST",
    )
    assert all(not t for t in match_keys(identity, keys).values())
    emitted = {rule for rule, t in blocking_keys(identity, keys).items() if t}
    assert emitted == {"dob_zip5"}
    # Without the ZIP, or without the birth date, nothing at all.
    for missing in ("postal_code", "dob"):
        partial = dataclasses.replace(identity, **{missing: None})  # type: ignore[arg-type]
        assert all(not t for t in match_keys(partial, keys).values())
        assert all(not t for t in blocking_keys(partial, keys).values())


def test_dob_zip5_token_needs_both_parts_and_is_keyed(keys: ProjectKeys) -> None:
    identity = person(first_name=None, middle_name=None, last_name=None)
    # The ZIP as its digits in order (23220 → 02223): a transposed ZIP keeps the token.
    message = b"fedlink/1|bk|dob_zip5|10:2004-03-07,5:02223,"
    assert blocking_keys(identity, keys)["dob_zip5"] == (
        token_of(keys.blocking_token_key, message),
    )
    assert not blocking_keys(person(postal_code=None), keys)["dob_zip5"]
    assert not blocking_keys(person(dob=None), keys)["dob_zip5"]
    # Both names replaced (FEBRL's hardest errors): the pair still shares this key.
    renamed = person(first_name="KEISHA", middle_name=None, last_name="OKAFOR", ssn=None)
    assert shared(blocking_keys(person(), keys), blocking_keys(renamed, keys), "dob_zip5")
    assert shared(blocking_keys(person(), keys), blocking_keys(person(postal_code="22320"), keys),
                  "dob_zip5")
    # One day or one ZIP digit off: no shared token.
    for other in (person(dob=dt.date(2004, 3, 8)), person(postal_code="23221")):
        assert not shared(blocking_keys(person(), keys), blocking_keys(other, keys), "dob_zip5")


@pytest.mark.parametrize(
    "parts",
    [
        ("dob",),
        ("postal_code",),
        ("sex",),
        ("birth_year", "postal_code"),
        ("birth_month", "postal_code"),
        ("dob", "zip3"),  # a ZIP prefix is not the ZIP5
        ("dob", "sex"),
        ("dob", "house_number"),
        ("dob", "city"),
        ("sex", "birth_year", "postal_code", "house_number"),
        ("postal_code", "street_prefix3", "house_number"),
        ("dob", "dob"),
        ("first_initial",),  # compound, even with a name part
    ],
)
def test_trust_rule_7_refuses_name_free_low_entropy_tokens(parts: tuple[str, ...]) -> None:
    assert not meets_trust_rule_7(parts)


@pytest.mark.parametrize(
    "parts",
    [("dob", "postal_code"), ("postal_code", "dob"), ("dob", "postal_code", "sex"),
     ("first_prefix", "dob"), ("ssn",), ("ssn", "dob")],
)  # fmt: skip
def test_trust_rule_7_allows_a_name_ssn_or_the_full_dob_and_zip5(parts: tuple[str, ...]) -> None:
    assert meets_trust_rule_7(parts)


def test_every_rule_meets_trust_rule_7() -> None:
    assert {frozenset({"dob", "postal_code"})} == NAME_FREE_RULE_PARTS
    for rule in (*MATCH_KEY_SPECS.values(), *BLOCKING_KEY_SPECS.values()):
        assert meets_trust_rule_7(rule.parts), rule
        if not set(rule.parts) & IDENTIFYING_PARTS:
            # The one name-free rule is the full date of birth with the ZIP5, no variant.
            assert set(rule.parts) == {"dob", "postal_code"} and not rule.varied, rule
        assert len(rule.parts) >= 2 or rule.parts == ("ssn",)
        assert set(rule.varied) <= set(rule.parts)
        names = [p for p in rule.parts if p.startswith(("first", "last"))]
        if rule.unordered:
            # Exactly one first-name and one last-name part, of the same form.
            first, last = unordered_pair(rule)
            assert {rule.parts[first], rule.parts[last]} == set(names)
        if rule.swap:
            # Its swapped token holds a name part too, of a form that exists.
            assert names and all(("last" + p[5:] if p[0] == "f" else "first" + p[4:])
                                 in PART_SOURCES for p in names)
        assert not (rule.swap and rule.unordered)


def test_twins_share_blocking_keys_but_not_name_match_keys(keys: ProjectKeys) -> None:
    anna = person(first_name="ANNA", middle_name=None, sex=Sex.FEMALE, ssn="219099991")
    maria = person(first_name="MARIA", middle_name=None, sex=Sex.FEMALE, ssn="219099992")
    # Same surname, birth date and address: the surname orientation of the either-name
    # rules is shared (candidates), the name rules are not.
    for rule in ("name_prefix_dob", "initial_street_zip"):
        assert shared(blocking_keys(anna, keys), blocking_keys(maria, keys), rule), rule
    mk_anna, mk_maria = match_keys(anna, keys), match_keys(maria, keys)
    for rule in NAME_RULES:
        assert not shared(mk_anna, mk_maria, rule), rule


def test_batch_encoding_matches_single_records(keys: ProjectKeys) -> None:
    identities = [
        person(),
        person(sex=None, dob=dt.date(2001, 11, 2)),
        NormalizedIdentity(),
        person(first_name="BOB", first_name_canonical=("ROBERT",), ssn=None),
        person(last_name="GARCIALOPEZ", last_name_parts=("GARCIA", "LOPEZ")),
        person(first_name="SMITH", last_name="SMITH", middle_name="SMYTHE"),
        person(first_name_canonical=("",), last_name_parts=("", "SMITH")),  # empty forms ignored
    ]
    match, blocking = TokenEncoder(keys).encode_many(identities)
    for rules, per_rule, single in (
        (MATCH_KEY_RULES, match, match_keys),
        (BLOCKING_KEY_RULES, blocking, blocking_keys),
    ):
        for rule, rule_tokens in zip(rules, per_rule, strict=True):
            assert rule_tokens.counts.sum() * TOKEN_BYTES == len(rule_tokens.tokens)
            expected = [single(i, keys)[rule] for i in identities]
            assert rule_tokens.per_record() == expected


def test_a_part_repeated_in_the_message_is_substituted_in_place(keys: ProjectKeys) -> None:
    # First name equal to surname: the first-name variant must replace the first name, not
    # the identical surname (the message holds "5:LOPEZ," twice).
    twice = match_keys(person(first_name="LOPEZ", middle_name="ANA", last_name="LOPEZ"), keys)
    expected = match_keys(person(first_name="ANA", middle_name=None, last_name="LOPEZ"), keys)
    wrong = match_keys(person(first_name="LOPEZ", middle_name=None, last_name="ANA"), keys)
    assert expected["name_dob_sex"][0] in twice["name_dob_sex"]
    assert wrong["name_dob_sex"][0] not in twice["name_dob_sex"]


@pytest.mark.parametrize("value", ["WILLIAM", "2004-03-07", "JOSÉ", "A"])
def test_inlined_framing_equals_keys_frame(value: str) -> None:
    assert framed(value) == frame((value,)).encode("utf-8")


def test_unordered_rule_frames_its_names_in_byte_order(keys: ProjectKeys) -> None:
    # Pins the unordered construction: NYSIIS(WILLIAM) = WALAN, NYSIIS(SMITH) = SNAT; the
    # smaller framed part comes first whatever field it came from.
    identity = person(middle_name=None, dob=dt.date(2004, 3, 17))
    message = b"fedlink/1|mk|phonetic_name_dob|4:SNAT,5:WALAN,10:2004-03-17,"
    expected = token_of(keys.match_token_key, message)
    assert match_keys(identity, keys)["phonetic_name_dob"] == (expected,)


def test_swap_token_is_the_rule_with_the_names_exchanged(keys: ProjectKeys) -> None:
    identity = person(middle_name=None)
    label = b"fedlink/1|bk|name_prefix_dob|"
    expected = tuple(
        token_of(keys.blocking_token_key, label + prefix + b"10:2004-03-07,")
        for prefix in (b"2:WI,", b"2:SM,")
    )
    assert blocking_keys(identity, keys)["name_prefix_dob"] == expected


def test_first_last_swap_shares_the_order_free_rules(keys: ProjectKeys) -> None:
    right = {**match_keys(person(), keys), **blocking_keys(person(), keys)}
    swapped_names = person(first_name="SMITH", middle_name=None, last_name="WILLIAM")
    swapped = {**match_keys(swapped_names, keys), **blocking_keys(swapped_names, keys)}
    for rule in ORDER_FREE:
        assert shared(right, swapped, rule), rule
    assert not shared(right, swapped, "name_dob_sex")


def test_either_name_rules_emit_from_the_name_that_is_there(keys: ProjectKeys) -> None:
    full = blocking_keys(person(), keys)
    no_first = blocking_keys(person(first_name=None, middle_name=None), keys)
    for rule in ("name_prefix_dob", "initial_street_zip"):
        assert len(no_first[rule]) == 1 and set(no_first[rule]) < set(full[rule]), rule


def test_swap_token_is_not_repeated_when_both_names_are_equal(keys: ProjectKeys) -> None:
    same = blocking_keys(person(first_name="SMITH", middle_name=None, last_name="SMITH"), keys)
    assert len(same["name_prefix_dob"]) == 1
    assert len(same["initial_street_zip"]) == 1


@pytest.mark.parametrize(
    ("street", "house", "name"),
    [("424 CLARK ST", b"3:424,", b"3:CLA,"), ("12A OAK AVE", b"2:12,", b"3:OAK,"),
     ("PO BOX 12", b"", b"2:PO,"), ("N MAIN ST", b"", b"3:MAI,"), (None, b"", b""),
     ("7", b"1:7,", b"")],
)  # fmt: skip
def test_house_number_and_street_prefix_of_the_street_address(
    street: str | None, house: bytes, name: bytes
) -> None:
    assert house_number_part(street) == house
    assert street_prefix_part(street) == name


def test_wrong_birth_date_still_shares_date_free_keys(keys: ProjectKeys) -> None:
    # FEBRL-like: a wrong birth-date digit and a surname typo; same first name, house,
    # street and ZIP.
    one = blocking_keys(person(ssn=None), keys)
    other = blocking_keys(person(ssn=None, last_name="SMIHT", dob=dt.date(2004, 8, 7)), keys)
    assert not shared(one, other, "name_prefix_dob")
    for rule in ("initial_street_zip", "prefixes_house"):
        assert shared(one, other, rule), rule


def test_surname_change_shares_first_name_keys(keys: ProjectKeys) -> None:
    maiden = blocking_keys(person(first_name="MARIA", middle_name=None), keys)
    married = blocking_keys(
        person(first_name="MARIA", middle_name=None, last_name="OKAFOR", street_address="9 ELM ST"),
        keys,
    )
    assert shared(maiden, married, "name_prefix_dob")
    assert not shared(maiden, married, "initial_street_zip")  # moved too


@pytest.mark.parametrize(
    "identity",
    [
        person(first_name="BILL", first_name_canonical=("ROBERT", "WILLIAM")),
        person(last_name="GARCIALOPEZ", last_name_parts=("GARCIA", "LOPEZ"), middle_name="ANA"),
        person(first_name="ZOE", middle_name="ADAMS", last_name="ADAMS"),  # a variant = other
    ],
)
def test_unordered_variants_are_the_sorted_pair_of_each_alternative(
    keys: ProjectKeys, identity: NormalizedIdentity
) -> None:
    def code(name: str) -> bytes:
        return framed(str(jellyfish.nysiis(name)))

    assert identity.first_name and identity.last_name and identity.dob
    firsts = [identity.first_name, *identity.first_name_canonical]
    if identity.middle_name and len(identity.middle_name) > 1:
        firsts.append(identity.middle_name)
    lasts = [identity.last_name, *identity.last_name_parts]
    pairs = {(f, identity.last_name) for f in firsts} | {(identity.first_name, s) for s in lasts}
    label, dob = b"fedlink/1|mk|phonetic_name_dob|", framed(identity.dob.isoformat())
    expected = {
        token_of(keys.match_token_key, label + b"".join(sorted((code(f), code(s)))) + dob)
        for f, s in pairs
    }
    assert set(match_keys(identity, keys)["phonetic_name_dob"]) == expected
