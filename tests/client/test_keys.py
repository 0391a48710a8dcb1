"""fedlink_client.keys: the researcher's X25519 key, written 0600, in the format the hub
takes in ``extract.recipient_public_key`` (the hub's own parser reads it)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from fedlink_client import InvalidInput, generate_key, public_key_of
from fedlink_client.keys import b64url, b64url_decode, load_private_key

from hub.domain.dsa import ExtractOptions
from protocol.keyfiles import public_key_to_b64, x25519_private_from_pem


def test_generated_key_is_0600_and_the_hub_accepts_its_public_half(tmp_path: Path) -> None:
    path = tmp_path / "researcher.key"
    public = generate_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # The server's own readers: the PEM loader and the agreement's field validator.
    private = x25519_private_from_pem(path.read_bytes())
    assert public_key_to_b64(private.public_key()) == public == public_key_of(path)
    assert ExtractOptions(recipient_public_key=public).recipient_public_key == public


def test_generate_key_is_0600_even_with_a_permissive_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        path = tmp_path / "k.pem"
        generate_key(path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_generate_key_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "researcher.key"
    path.write_text("an old key\n")
    with pytest.raises(InvalidInput, match="already exists"):
        generate_key(path)
    assert path.read_text() == "an old key\n"


def test_a_file_that_is_not_an_x25519_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.pem"
    path.write_text("not a key")
    with pytest.raises(InvalidInput, match="not an unencrypted PEM private key"):
        load_private_key(path)
    with pytest.raises(InvalidInput, match="cannot read the key file"):
        load_private_key(tmp_path / "missing.pem")


def test_b64url_is_strict() -> None:
    assert b64url_decode(b64url(b"\x00\xff" * 16)) == b"\x00\xff" * 16
    for bad in ("ab==", "a+b/", "a", "AB"):  # padding, standard alphabet, length, bits
        with pytest.raises(ValueError):
            b64url_decode(bad)
