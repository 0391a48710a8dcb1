"""Key derivation (HKDF-SHA256), project sub-keys and project-scoped pseudonymous ids."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import re

import pytest
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF, HKDFExpand

from protocol.errors import EncodingError, KeyDerivationError
from protocol.keys import (
    FEDERATION_SECRET_BYTES,
    HmacSha256,
    KeyedBlake2b,
    ProjectKeys,
    derive_project_keys,
    frame,
    generate_federation_secret,
    generate_project_salt,
    person_pseudonymous_ids,
    pseudonymous_id,
    pseudonymous_ids,
)

SECRET = bytes(range(32))
SALT_A = b"project-a-salt-0123456789abcdef!"
SALT_B = b"project-b-salt-0123456789abcdef!"
NODE_KEY = b"\x07" * 32
PID = "P-2026-001"
DIGEST = "cd" * 32


def _derive(secret: bytes, salt: bytes) -> ProjectKeys:
    return derive_project_keys(secret, salt, project_id=PID, project_digest=DIGEST)


def _secret_fields(keys: ProjectKeys) -> list[bytes]:
    return [getattr(keys, f.name) for f in dataclasses.fields(keys) if f.name.endswith("_key")]


def test_generated_secret_and_salt_are_32_random_bytes() -> None:
    secrets_ = {generate_federation_secret() for _ in range(8)}
    salts = {generate_project_salt() for _ in range(8)}
    assert len(secrets_) == 8 and len(salts) == 8
    assert all(len(s) == FEDERATION_SECRET_BYTES for s in secrets_)
    assert all(len(s) == 32 for s in salts)


def test_project_keys_are_deterministic_for_secret_and_salt() -> None:
    assert _derive(SECRET, SALT_A) == _derive(SECRET, SALT_A)


def test_project_keys_differ_across_salts_and_secrets() -> None:
    a = _secret_fields(_derive(SECRET, SALT_A))
    b = _secret_fields(_derive(SECRET, SALT_B))
    c = _secret_fields(_derive(b"\x01" * 32, SALT_A))
    assert not set(a) & set(b)
    assert not set(a) & set(c)


def test_sub_keys_are_32_bytes_and_mutually_independent() -> None:
    keys = _secret_fields(_derive(SECRET, SALT_A))
    assert len(keys) == 5
    assert all(len(k) == 32 for k in keys)
    assert len(set(keys)) == len(keys)


def test_derivation_is_the_documented_hkdf_chain() -> None:
    # Pinned: every node must derive byte-identical keys, whatever version it runs.
    info = b"fedlink/2 project-key|" + f"{len(PID)}:{PID},64:{DIGEST},".encode()
    project_key = HKDF(algorithm=SHA256(), length=32, salt=SALT_A, info=info).derive(SECRET)

    def expand(label: bytes) -> bytes:
        return HKDFExpand(algorithm=SHA256(), length=32, info=b"fedlink/1 " + label).derive(
            project_key
        )

    keys = _derive(SECRET, SALT_A)
    assert keys.match_token_key == expand(b"match-token")
    assert keys.blocking_token_key == expand(b"blocking-token")
    assert keys.bloom_key("first_name") == expand(b"bloom first_name")
    assert keys.bloom_key("last_name") == expand(b"bloom last_name")
    assert keys.bloom_key("address") == expand(b"bloom address")
    assert keys.key_check == expand(b"key-check")[:8].hex()


def test_repr_and_str_never_show_key_bytes() -> None:
    keys = _derive(SECRET, SALT_A)
    for text in (repr(keys), str(keys)):
        for secret in _secret_fields(keys):
            assert secret.hex() not in text
            assert repr(secret) not in text
        assert "key_check" in text


def test_key_check_is_public_fingerprint_distinct_from_keys() -> None:
    keys = _derive(SECRET, SALT_A)
    assert re.fullmatch(r"[0-9a-f]{16}", keys.key_check)
    assert keys.key_check != _derive(SECRET, SALT_B).key_check
    assert all(not k.hex().startswith(keys.key_check) for k in _secret_fields(keys))


def test_unknown_bloom_field_has_no_key() -> None:
    with pytest.raises(EncodingError):
        _derive(SECRET, SALT_A).bloom_key("ssn")


@pytest.mark.parametrize(
    ("secret", "salt", "reason"),
    [
        (b"\x00" * 31, SALT_A, "bad_key_material"),  # secret one byte short
        (b"", SALT_A, "bad_key_material"),
        ("not bytes" * 8, SALT_A, "bad_key_material"),
        (bytearray(SECRET), SALT_A, "bad_key_material"),
        (None, SALT_A, "bad_key_material"),
        (SECRET, b"\x00" * 15, "bad_salt"),
        (SECRET, b"", "bad_salt"),
        (SECRET, SALT_A[:31], "bad_salt"),  # one byte short
        (SECRET, SALT_A + b"\x00", "bad_salt"),  # the HMAC zero-padding alias of SALT_A
        (SECRET, "a string salt that is long enough", "bad_salt"),
    ],
)
def test_unusable_key_material_is_refused(secret: object, salt: object, reason: str) -> None:
    with pytest.raises(KeyDerivationError) as info:
        derive_project_keys(secret, salt, project_id=PID,  # type: ignore[arg-type]
                            project_digest=DIGEST)
    assert info.value.reason == reason


def test_exact_lengths_are_accepted() -> None:
    derive_project_keys(b"\x00" * 32, b"\x00" * 32, project_id=PID, project_digest=DIGEST)


@pytest.mark.parametrize(
    ("project_id", "digest"),
    [("", DIGEST), (PID, "CD" * 32), (PID, "cd" * 31), (PID, "zz" * 32), (None, DIGEST)],
)
def test_unusable_project_binding_is_refused(project_id: object, digest: object) -> None:
    with pytest.raises(KeyDerivationError):
        derive_project_keys(SECRET, SALT_A, project_id=project_id,  # type: ignore[arg-type]
                            project_digest=digest)


def test_frame_is_unambiguous() -> None:
    assert frame(("AB", "C")) != frame(("A", "BC"))
    assert frame(("A", "")) != frame(("", "A"))
    assert frame(("1:A,",)) != frame(("1", "A"))


def test_pseudonymous_id_is_deterministic_128_bit_hex() -> None:
    pid = pseudonymous_id(NODE_KEY, "P-2026-001", "S123")
    assert pid == pseudonymous_id(NODE_KEY, "P-2026-001", "S123")
    assert re.fullmatch(r"[0-9a-f]{32}", pid)
    assert "S123" not in pid


def test_pseudonymous_ids_differ_across_projects_records_and_nodes() -> None:
    ids = {
        pseudonymous_id(NODE_KEY, "P1", "S123"),
        pseudonymous_id(NODE_KEY, "P2", "S123"),
        pseudonymous_id(NODE_KEY, "P1", "S124"),
        pseudonymous_id(b"\x08" * 32, "P1", "S123"),
        # Framing: moving characters between the two fields gives another id.
        pseudonymous_id(NODE_KEY, "P1S", "123"),
    }
    assert len(ids) == 5


def test_pseudonymous_id_refuses_short_node_key_and_empty_ids() -> None:
    with pytest.raises(KeyDerivationError):
        pseudonymous_id(b"\x00" * 16, "P1", "S1")
    with pytest.raises(EncodingError):
        pseudonymous_id(NODE_KEY, "P1", "")
    with pytest.raises(EncodingError):
        pseudonymous_id(NODE_KEY, "", "S1")


def test_precomputed_hmac_equals_standard_hmac() -> None:
    for key in (b"k" * 32, b"", b"x" * 64, b"long" * 40):
        for message in (b"", b"fedlink/1|mk|rule|4:JOHN,", b"m" * 200):
            assert HmacSha256(key)(message) == hmac.digest(key, message, "sha256")
        assert HmacSha256(key).digest_many([message, b"x"]) == (
            hmac.digest(key, message, "sha256") + hmac.digest(key, b"x", "sha256")
        )


def test_keyed_blake2b_equals_hashlib_blake2b() -> None:
    for key in (b"k" * 32, b"x" * 64, b"s" * 16):
        for message in (b"", b"fedlink/1|mk|rule|4:JOHN,", b"m" * 200):
            expected = hashlib.blake2b(message, key=key, digest_size=16).digest()
            assert KeyedBlake2b(key)(message) == expected
            assert KeyedBlake2b(key).digest_many([message, b"x"]) == (
                expected + hashlib.blake2b(b"x", key=key, digest_size=16).digest()
            )
    for bad in (b"", b"k" * 15, b"k" * 65):
        with pytest.raises(KeyDerivationError):
            KeyedBlake2b(bad)


def test_batched_pseudonymous_ids_equal_one_by_one() -> None:
    records = ["S1", "S123", "ÄÖ-7", "x" * 70]
    assert pseudonymous_ids(NODE_KEY, "P-2026-001", records) == [
        pseudonymous_id(NODE_KEY, "P-2026-001", r) for r in records
    ]
    assert pseudonymous_ids(NODE_KEY, "P1", []) == []
    with pytest.raises(KeyDerivationError):
        pseudonymous_ids(b"\x00" * 16, "P1", ["S1"])
    with pytest.raises(EncodingError):
        pseudonymous_ids(NODE_KEY, "P1", ["S1", ""])
    with pytest.raises(EncodingError):
        pseudonymous_ids(NODE_KEY, "", ["S1"])


def test_person_pseudonyms_are_domain_separated_from_record_pseudonyms() -> None:
    # The same text as a person id and as a record id never gives the same pid, in either
    # call shape, so a pid names a person or a record, never both.
    ids = ["S123", "K12-0001", "0000000042"]
    persons = person_pseudonymous_ids(NODE_KEY, "P-2026-001", ids)
    records = pseudonymous_ids(NODE_KEY, "P-2026-001", ids)
    assert not set(persons) & set(records)
    assert all(re.fullmatch(r"[0-9a-f]{32}", pid) for pid in persons)
    assert persons == person_pseudonymous_ids(NODE_KEY, "P-2026-001", ids)
    # The documented construction, so nodes of one release agree on it.
    message = ("fedlink/1 person-pid|" + frame(("P-2026-001", "S123"))).encode()
    assert persons[0] == hmac.digest(NODE_KEY, message, "sha256")[:16].hex()
    assert person_pseudonymous_ids(NODE_KEY, "P-2", ids)[0] != persons[0]
    assert person_pseudonymous_ids(b"\x08" * 32, "P-2026-001", ids)[0] != persons[0]


def test_person_pseudonyms_refuse_short_node_key_and_empty_ids() -> None:
    with pytest.raises(KeyDerivationError):
        person_pseudonymous_ids(b"\x00" * 16, "P1", ["S1"])
    with pytest.raises(EncodingError, match="person_id"):
        person_pseudonymous_ids(NODE_KEY, "P1", ["S1", ""])
    with pytest.raises(EncodingError):
        person_pseudonymous_ids(NODE_KEY, "", ["S1"])
    assert person_pseudonymous_ids(NODE_KEY, "P1", []) == []
