"""Key files are owner-only; the federation secret is parsed strictly; settings fail fast."""

from __future__ import annotations

import base64
import secrets
import stat
from pathlib import Path

import pytest

from agency_node import keys
from agency_node.errors import ConfigError, NotEnrolledError
from agency_node.settings import NodeSettings


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_init_writes_key_files_0600_in_a_0700_directory(node_dir: Path) -> None:
    assert _mode(node_dir) == 0o700
    for name in (keys.SIGNING_KEY, keys.PSEUDONYM_KEY, "node.toml"):
        assert _mode(node_dir / name) == 0o600, name
    assert len(keys.load_pseudonym_key(node_dir)) == 32
    keys.load_signing_key(node_dir)


def test_secret_import_stores_0600_and_accepts_hex_base64_raw(
    node_dir: Path, tmp_path: Path
) -> None:
    secret = secrets.token_bytes(32)
    spellings = {
        "hex": secret.hex().encode() + b"\n",
        "base64": base64.b64encode(secret) + b"\n",
        "base64url": base64.urlsafe_b64encode(secret).rstrip(b"="),
        "raw": secret,
    }
    for name, data in spellings.items():
        source = tmp_path / f"secret.{name}"
        source.write_bytes(data)
        fingerprint = keys.import_federation_secret(node_dir, source, replace=True)
        assert keys.load_federation_secret(node_dir) == secret, name
        assert fingerprint == keys.secret_fingerprint(secret)
        assert secret.hex() not in fingerprint
    assert _mode(node_dir / keys.SECRET_KEY) == 0o600


@pytest.mark.parametrize("data", [b"", b"abcd" * 4, secrets.token_bytes(16).hex().encode(),
                                  b"short raw"], ids=["empty", "short_hex", "16_bytes", "raw"])
def test_secret_shorter_than_32_bytes_refused(data: bytes) -> None:
    with pytest.raises(ConfigError, match="exactly 32 bytes"):
        keys.parse_secret(data)


def test_secret_import_refuses_to_overwrite_without_replace(node_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "s"
    source.write_text(secrets.token_hex(32))
    keys.import_federation_secret(node_dir, source)
    with pytest.raises(ConfigError, match="already exists"):
        keys.import_federation_secret(node_dir, source)


def test_settings_refuse_a_key_readable_by_others(node_dir: Path) -> None:
    (node_dir / keys.SIGNING_KEY).chmod(0o644)
    with pytest.raises(ConfigError, match=r"signing.key is readable by others.*chmod 600"):
        NodeSettings.load(node_dir)


def test_settings_refuse_a_directory_writable_by_others(node_dir: Path) -> None:
    node_dir.chmod(0o777)
    with pytest.raises(ConfigError, match="can be written by others"):
        NodeSettings.load(node_dir)


def test_settings_refuse_a_missing_node_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        NodeSettings.load(tmp_path / "nowhere")


def test_settings_environment_overrides_node_toml(
    node_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FEDLINK_NODE_PORT", "9321")
    monkeypatch.setenv("FEDLINK_NODE_MAX_MATCH_REQUEST_BYTES", "4096")
    settings = NodeSettings.load(node_dir)
    assert (settings.port, settings.max_match_request_bytes) == (9321, 4096)
    monkeypatch.setenv("FEDLINK_NODE_PORT", "not a port")
    with pytest.raises(ConfigError, match="port"):
        NodeSettings.load(node_dir)


def test_serving_requires_secret_and_enrollment(node_dir: Path) -> None:
    with pytest.raises(NotEnrolledError, match="secret import"):
        NodeSettings.load(node_dir).require_serving()
