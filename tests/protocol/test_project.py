"""Project-bound key derivation: one canonical salt, keys bound to the project id and the
project digest, so no two projects ever share a token whatever salt the hub sends."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from protocol.canonical import b64url_encode
from protocol.errors import BadSaltError
from protocol.identity import NormalizedIdentity, Sex
from protocol.keys import ProjectKeys, derive_project_keys, project_salt_bytes
from protocol.project import ProjectTerms, project_digest, project_terms
from protocol.tokens import blocking_keys, match_keys

SECRET = b"\x42" * 32
SALT = bytes(range(32))
DIGEST_A = "a1" * 32
DIGEST_B = "b2" * 32
project_ids = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9._:-]{0,40}\Z")
digests = st.binary(min_size=32, max_size=32).map(bytes.hex)


def person() -> NormalizedIdentity:
    return NormalizedIdentity(
        first_name="ADA", middle_name="B", last_name="LOVELACE", dob=dt.date(2001, 12, 10),
        sex=Sex.FEMALE, ssn="219099998", postal_code="23220", street_address="5 ELM ST",
        city="RICHMOND",
    )


def tokens(keys: ProjectKeys) -> set[bytes]:
    out: set[bytes] = set()
    for values in (*match_keys(person(), keys).values(),
                   *blocking_keys(person(), keys).values()):
        out.update(values)
    return out


def keys_for(project_id: str, digest: str = DIGEST_A, salt: bytes = SALT) -> ProjectKeys:
    return derive_project_keys(SECRET, salt, project_id=project_id, project_digest=digest)


# --- the salt: one spelling, one length ----------------------------------------------------


def test_padded_salt_is_refused() -> None:
    # HKDF's salt is an HMAC key, zero-padded to the block: salt ‖ 0x00 *was* the same key.
    plain = HKDF(algorithm=SHA256(), length=32, salt=SALT, info=b"x").derive(SECRET)
    padded = HKDF(algorithm=SHA256(), length=32, salt=SALT + b"\x00", info=b"x").derive(SECRET)
    assert plain == padded  # why the length is fixed
    with pytest.raises(BadSaltError) as info:
        project_salt_bytes(b64url_encode(SALT + b"\x00"))
    assert info.value.reason == "bad_salt"
    with pytest.raises(BadSaltError):
        derive_project_keys(SECRET, SALT + b"\x00", project_id="P1", project_digest=DIGEST_A)


@pytest.mark.parametrize("text", [
    b64url_encode(bytes(31)), b64url_encode(bytes(33)), b64url_encode(bytes(64)),
    b64url_encode(SALT) + "=", b64url_encode(SALT)[:-1] + "B",  # non-zero trailing bits
    b64url_encode(b"\xff" * 32).replace("_", "/"), " " + b64url_encode(SALT), "",
])
def test_non_canonical_salt_spellings_are_refused(text: str) -> None:
    with pytest.raises(BadSaltError):
        project_salt_bytes(text)


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=32, max_size=32))
def test_every_32_byte_salt_has_exactly_its_canonical_spelling(raw: bytes) -> None:
    text = b64url_encode(raw)
    assert project_salt_bytes(text) == raw
    assert b64url_encode(project_salt_bytes(text)) == text


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=64).filter(lambda b: len(b) != 32))
def test_every_other_salt_length_is_refused(raw: bytes) -> None:
    with pytest.raises(BadSaltError):
        project_salt_bytes(b64url_encode(raw))


# --- binding to the project -----------------------------------------------------------------


def test_reused_salt_across_projects_gives_disjoint_tokens() -> None:
    # Attack 1: the hub reuses one salt (pinned at one node for P3) for P4 elsewhere.
    p3, p4 = tokens(keys_for("P3")), tokens(keys_for("P4"))
    assert p3 and p4 and not p3 & p4


def test_same_project_other_terms_gives_disjoint_tokens() -> None:
    assert not tokens(keys_for("P3", DIGEST_A)) & tokens(keys_for("P3", DIGEST_B))


@settings(max_examples=60, deadline=None)
@given(project_ids, project_ids, digests, digests)
def test_distinct_projects_never_share_a_sub_key(a: str, b: str, da: str, db: str) -> None:
    if (a, da) == (b, db):
        assert keys_for(a, da) == keys_for(b, db)
        return
    first, second = keys_for(a, da), keys_for(b, db)
    mine = {first.match_token_key, first.blocking_token_key, first.bloom_address_key}
    theirs = {second.match_token_key, second.blocking_token_key, second.bloom_address_key}
    assert not mine & theirs
    assert first.key_check != second.key_check


def test_project_id_framing_is_unambiguous() -> None:
    # "P1" + digest and "P" + "1…" must not collide through concatenation.
    assert keys_for("P1", DIGEST_A) != keys_for("P", DIGEST_A)


# --- the project digest ----------------------------------------------------------------------


def terms(**changes: object) -> ProjectTerms:
    fields: dict[str, object] = {
        "project_id": "P-2026-001", "term_start": "2026-01-01", "term_end": "2027-12-31",
        "digests": {"DSS": "11" * 32, "K12": "22" * 32},
    }
    fields.update(changes)
    return project_terms(str(fields["project_id"]), fields["term_start"], fields["term_end"],
                         dict(fields["digests"]))  # type: ignore[call-overload]


def test_project_digest_is_independent_of_mapping_order() -> None:
    a = project_terms("P1", "2026-01-01", "2026-12-31", {"K12": "22" * 32, "DSS": "11" * 32})
    b = project_terms("P1", "2026-01-01", "2026-12-31", {"DSS": "11" * 32, "K12": "22" * 32})
    assert project_digest(a) == project_digest(b)


@pytest.mark.parametrize("changes", [
    {"project_id": "P-2026-002"}, {"term_end": "2027-12-30"}, {"term_start": "2026-01-02"},
    {"digests": {"DSS": "11" * 32, "K12": "23" * 32}}, {"digests": {"DSS": "11" * 32}},
])
def test_project_digest_changes_with_every_field(changes: dict[str, object]) -> None:
    assert project_digest(terms(**changes)) != project_digest(terms())


def test_unsorted_or_duplicate_agencies_are_refused() -> None:
    entries = [{"agency": "K12", "terms_digest": "22" * 32},
               {"agency": "DSS", "terms_digest": "11" * 32}]
    base = {"project_id": "P1", "term_start": "2026-01-01", "term_end": "2026-12-31"}
    with pytest.raises(ValidationError):
        ProjectTerms.model_validate({**base, "agencies": entries})
    with pytest.raises(ValidationError):
        ProjectTerms.model_validate({**base, "agencies": [entries[0], entries[0]]})
    with pytest.raises(ValidationError):
        ProjectTerms.model_validate({**base, "term_end": "2025-12-31", "agencies": entries[1:]})


def test_digest_for_names_only_listed_agencies() -> None:
    assert terms().digest_for("K12") == "22" * 32
    assert terms().digest_for("DOC") is None
