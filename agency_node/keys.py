"""The node's key files: created 0600 in a 0700 directory, refused when readable by others.

=================  ===========================================================
``signing.key``    Ed25519 private key (PKCS#8 PEM) — signs steward decisions
``pseudonym.key``  32 random bytes — keys the project-scoped pseudonymous ids
``secret.key``     the federation secret (raw bytes), imported, never printed
``hub.token``      the node API token the hub issued at enrollment
``hub_keys/``      the enrolled hub's public keys (``signing.pub``: match requests only,
                   ``hpke.pub``) and the assembly role's keys: ``assembly.pub`` (HPKE),
                   the only key extract payloads are sealed to, and
                   ``assembly-signing.pub`` (Ed25519), the only key accepted on extract
                   requests
=================  ===========================================================
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import secrets
import stat
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

from agency_node.errors import ConfigError, NotEnrolledError
from protocol.errors import KeyFormatError
from protocol.keyfiles import (
    ed25519_private_from_pem,
    ed25519_public_from_pem,
    private_key_to_pem,
    public_key_to_pem,
    x25519_public_from_pem,
)
from protocol.keys import FEDERATION_SECRET_BYTES

SIGNING_KEY = "signing.key"
PSEUDONYM_KEY = "pseudonym.key"
SECRET_KEY = "secret.key"  # noqa: S105 - a file name
HUB_TOKEN = "hub.token"  # noqa: S105 - a file name
HUB_KEYS_DIR = "hub_keys"
HUB_SIGNING_PUB = f"{HUB_KEYS_DIR}/signing.pub"
HUB_HPKE_PUB = f"{HUB_KEYS_DIR}/hpke.pub"
HUB_ASSEMBLY_PUB = f"{HUB_KEYS_DIR}/assembly.pub"
HUB_ASSEMBLY_SIGNING_PUB = f"{HUB_KEYS_DIR}/assembly-signing.pub"
PRIVATE_FILES = (SIGNING_KEY, PSEUDONYM_KEY, SECRET_KEY, HUB_TOKEN)
_MAX_SECRET_FILE = 4096
_MIN_DISTINCT_BYTES = 16


def ensure_private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.chmod(0o700)


def write_private(path: Path, data: bytes, *, replace: bool = False) -> None:
    """Write ``data`` to ``path`` with mode 0600 whatever the umask (atomic rename)."""
    if path.exists() and not replace:
        raise ConfigError(f"{path} already exists; refusing to overwrite it")
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def check_private(path: Path) -> None:
    """Refuse a key file that is not a regular file readable by its owner only."""
    info = path.lstat()
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(f"{path} is not a regular file")
    if stat.S_IMODE(info.st_mode) & 0o077:
        raise ConfigError(
            f"{path} is readable by others (mode {stat.S_IMODE(info.st_mode):o}); "
            f"run `chmod 600 {path}`"
        )


def read_private(path: Path) -> bytes:
    try:
        check_private(path)
    except FileNotFoundError:
        raise ConfigError(f"{path} is missing") from None
    return path.read_bytes()


def create_node_keys(node_dir: Path) -> Ed25519PrivateKey:
    """Generate the signing and pseudonym keys of a new node."""
    key = Ed25519PrivateKey.generate()
    write_private(node_dir / SIGNING_KEY, private_key_to_pem(key))
    write_private(node_dir / PSEUDONYM_KEY, secrets.token_bytes(32))
    return key


def load_signing_key(node_dir: Path) -> Ed25519PrivateKey:
    try:
        return ed25519_private_from_pem(read_private(node_dir / SIGNING_KEY))
    except KeyFormatError as exc:
        raise ConfigError(f"{node_dir / SIGNING_KEY}: {exc}") from None


def load_pseudonym_key(node_dir: Path) -> bytes:
    data = read_private(node_dir / PSEUDONYM_KEY)
    if len(data) < 32:
        raise ConfigError(f"{node_dir / PSEUDONYM_KEY} is shorter than 32 bytes")
    return data


def parse_secret(data: bytes) -> bytes:
    """The federation secret in a file: hex text, base64 text, or raw bytes (exactly 32).

    Text is tried first (surrounding whitespace ignored): hex when it is only hex digits,
    else standard or URL-safe base64. Anything else is taken as raw bytes. The key material
    must be exactly :data:`FEDERATION_SECRET_BYTES` bytes (what the agencies' ceremony
    generates and ``DIR/secret.key`` holds) and look random (see :func:`check_secret`).
    """
    if len(data) > _MAX_SECRET_FILE:
        raise ConfigError(f"a federation secret file is at most {_MAX_SECRET_FILE} bytes")
    text = data.strip()
    secret = data
    if re.fullmatch(rb"(?:[0-9a-fA-F]{2})+", text):
        secret = binascii.unhexlify(text)
    elif re.fullmatch(rb"[A-Za-z0-9+/_-]+={0,2}", text):
        try:
            standard = text.rstrip(b"=").replace(b"-", b"+").replace(b"_", b"/")
            secret = base64.b64decode(standard + b"=" * (-len(standard) % 4), validate=True)
        except binascii.Error:
            secret = data  # not base64 after all: raw bytes that happen to be printable
    if len(secret) != FEDERATION_SECRET_BYTES:
        raise ConfigError(
            f"the federation secret must be exactly {FEDERATION_SECRET_BYTES} bytes "
            f"(raw, or as hex or base64 text), not {len(secret)}"
        )
    check_secret(secret)
    return secret


def check_secret(secret: bytes) -> None:
    """Refuse key material that cannot be a random secret: all zeros or a short pattern
    (a placeholder left in place would make every token silently miss)."""
    if len(set(secret)) < _MIN_DISTINCT_BYTES:
        # 32 random bytes have about 30 distinct values; fewer than 16 happens by chance with
        # a probability below 1e-15, so this is a placeholder or a pattern, not a secret.
        raise ConfigError(
            f"the federation secret has only {len(set(secret))} distinct byte values: it is a "
            "placeholder or a pattern, not a random secret; generate one with "
            "`python3 -c 'import secrets; print(secrets.token_hex(32))'`"
        )


def secret_fingerprint(secret: bytes) -> str:
    """A short, non-secret check value: two agencies compare it to confirm they hold the
    same secret without revealing it."""
    return hashlib.sha256(b"fedlink/1 secret-fingerprint|" + secret).hexdigest()[:16]


def import_federation_secret(node_dir: Path, source: Path, *, replace: bool = False) -> str:
    """Copy the secret from ``source`` into ``DIR/secret.key`` (0600); its fingerprint."""
    try:
        data = source.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"secret file {source} does not exist") from None
    except IsADirectoryError:
        raise ConfigError(f"secret file {source} is a directory") from None
    secret = parse_secret(data)
    write_private(node_dir / SECRET_KEY, secret, replace=replace)
    return secret_fingerprint(secret)


def load_federation_secret(node_dir: Path) -> bytes:
    path = node_dir / SECRET_KEY
    if not path.exists():
        raise NotEnrolledError(
            "no federation secret on this node (run `fedlink node secret import FILE`)"
        )
    secret = read_private(path)
    # The file is what `secret import` wrote: exactly 32 raw bytes. Anything else (a
    # truncated copy, a hex text pasted in by hand, zeros from a failed disk) is refused
    # here, at start-up and at /ready, not discovered as matches that never happen.
    if len(secret) != FEDERATION_SECRET_BYTES:
        raise ConfigError(
            f"{path} is corrupt: it holds {len(secret)} bytes, not the "
            f"{FEDERATION_SECRET_BYTES} raw bytes `fedlink node secret import` writes; "
            "import the secret again with --replace")
    try:
        check_secret(secret)
    except ConfigError as exc:
        raise ConfigError(f"{path} is corrupt: {exc}; then import it with --replace") from None
    return secret


def store_hub_material(node_dir: Path, *, signing_public: Ed25519PublicKey,
                       hpke_public: X25519PublicKey, token: str,
                       assembly_public: X25519PublicKey | None = None,
                       assembly_signing_public: Ed25519PublicKey | None = None) -> None:
    """Keep what enrollment returned: the hub's public keys (PEM), the assembly keys to pin
    (an older pin is dropped when the hub gave none) and the node API token."""
    ensure_private_dir(node_dir / HUB_KEYS_DIR)
    write_private(node_dir / HUB_SIGNING_PUB, public_key_to_pem(signing_public), replace=True)
    write_private(node_dir / HUB_HPKE_PUB, public_key_to_pem(hpke_public), replace=True)
    pins: tuple[tuple[str, X25519PublicKey | Ed25519PublicKey | None], ...] = (
        (HUB_ASSEMBLY_PUB, assembly_public), (HUB_ASSEMBLY_SIGNING_PUB, assembly_signing_public))
    for name, public in pins:
        if public is None:
            (node_dir / name).unlink(missing_ok=True)
        else:
            write_private(node_dir / name, public_key_to_pem(public), replace=True)
    write_private(node_dir / HUB_TOKEN, token.encode("utf-8"), replace=True)


def load_hub_token(node_dir: Path) -> str:
    return _enrolled_file(node_dir, HUB_TOKEN).decode("utf-8").strip()


def load_hub_signing_key(node_dir: Path) -> Ed25519PublicKey:
    try:
        return ed25519_public_from_pem(_enrolled_file(node_dir, HUB_SIGNING_PUB))
    except KeyFormatError as exc:
        raise ConfigError(f"{node_dir / HUB_SIGNING_PUB}: {exc}") from None


def load_hub_hpke_key(node_dir: Path) -> X25519PublicKey:
    try:
        return x25519_public_from_pem(_enrolled_file(node_dir, HUB_HPKE_PUB))
    except KeyFormatError as exc:
        raise ConfigError(f"{node_dir / HUB_HPKE_PUB}: {exc}") from None


def load_assembly_key(node_dir: Path) -> X25519PublicKey | None:
    """The assembly key pinned at enrollment, or None (extracts are then refused)."""
    if not (node_dir / HUB_ASSEMBLY_PUB).exists():
        return None
    try:
        return x25519_public_from_pem(read_private(node_dir / HUB_ASSEMBLY_PUB))
    except KeyFormatError as exc:
        raise ConfigError(f"{node_dir / HUB_ASSEMBLY_PUB}: {exc}") from None


def _enrolled_file(node_dir: Path, name: str) -> bytes:
    path = node_dir / name
    if not path.exists():
        raise NotEnrolledError("this node is not enrolled (run `fedlink node enroll`)")
    return read_private(path)


def load_assembly_signing_key(node_dir: Path) -> Ed25519PublicKey | None:
    """The assembly signing key pinned at enrollment — the only key extract requests are
    accepted from — or None (extract requests are then refused)."""
    if not (node_dir / HUB_ASSEMBLY_SIGNING_PUB).exists():
        return None
    try:
        return ed25519_public_from_pem(read_private(node_dir / HUB_ASSEMBLY_SIGNING_PUB))
    except KeyFormatError as exc:
        raise ConfigError(f"{node_dir / HUB_ASSEMBLY_SIGNING_PUB}: {exc}") from None
