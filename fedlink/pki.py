"""A private certificate authority for the TLS between the hub and the agency nodes.

``fedlink pki init --dir DIR`` makes ``DIR/ca.key`` (0600) and ``DIR/ca.crt``;
``fedlink pki issue --ca DIR --name node-k12 --dns k12.example --ip 10.0.0.5 --out OUT``
makes ``OUT/node-k12.crt`` and ``OUT/node-k12.key`` (0600) for one server, plus a copy of
``ca.crt`` that its peers trust (``ca_file``). Keys are ECDSA P-256 (every TLS stack speaks
it); certificates carry subject and authority key identifiers and a critical
basicConstraints, as strict verifiers (OpenSSL 3, Python 3.13's ``VERIFY_X509_STRICT``)
require. The CA signs only server certificates for this federation (path length 0).

A federation that already has an enterprise PKI uses its certificates instead: the services
only need a certificate file, a key file and the CA bundle to trust.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from fedlink.errors import CommandError

CA_KEY: Final = "ca.key"
CA_CERT: Final = "ca.crt"
_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


@dataclass(frozen=True)
class Issued:
    certificate: Path
    key: Path
    ca: Path
    not_after: dt.datetime
    fingerprint: str


def _write(path: Path, data: bytes, mode: int) -> None:
    if path.exists():
        raise CommandError(f"{path} already exists; refusing to overwrite it")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as handle:
        os.fchmod(handle.fileno(), mode)
        handle.write(data)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def fingerprint(certificate: x509.Certificate) -> str:
    return certificate.fingerprint(hashes.SHA256()).hex(":")


def init_ca(directory: Path, *, common_name: str = "Fedlink federation CA",
            days: int = 3650) -> Path:
    """Create the CA key and self-signed certificate in ``directory`` (made 0700)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    directory.chmod(0o700)
    for name in (CA_KEY, CA_CERT):
        if (directory / name).exists():
            raise CommandError(f"{directory / name} already exists; refusing to replace the CA")
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    public = key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(subject).public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=False, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write(directory / CA_KEY, _key_pem(key), 0o600)
    _write(directory / CA_CERT, certificate.public_bytes(serialization.Encoding.PEM), 0o644)
    return directory / CA_CERT


def _load_ca(ca_dir: Path) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key_path, cert_path = Path(ca_dir) / CA_KEY, Path(ca_dir) / CA_CERT
    if not key_path.is_file() or not cert_path.is_file():
        raise CommandError(f"{ca_dir} holds no CA ({CA_KEY}, {CA_CERT}); run `fedlink pki init`")
    if key_path.stat().st_mode & 0o077:
        raise CommandError(f"{key_path} is readable by others; run `chmod 600 {key_path}`")
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise CommandError(f"{key_path} is not the EC key `fedlink pki init` makes")
    return key, x509.load_pem_x509_certificate(cert_path.read_bytes())


def issue(ca_dir: Path, *, name: str, out_dir: Path, dns: list[str], ips: list[str],
          days: int = 397) -> Issued:
    """Issue a server certificate for ``name`` valid for the given DNS names and IPs."""
    if not _NAME.fullmatch(name):
        raise CommandError(f"--name {name!r}: use letters, digits, '.', '_' or '-'")
    if not dns and not ips:
        raise CommandError("give at least one --dns NAME or --ip ADDRESS the server is reached at")
    try:
        addresses = [ipaddress.ip_address(ip) for ip in ips]
    except ValueError as exc:
        raise CommandError(f"--ip: {exc}") from None
    if not 1 <= days <= 3650:
        raise CommandError("--days must be between 1 and 3650")
    ca_key, ca_cert = _load_ca(ca_dir)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    not_after = min(now + dt.timedelta(days=days), ca_cert.not_valid_after_utc)
    names: list[x509.GeneralName] = [x509.DNSName(d) for d in dns]
    names += [x509.IPAddress(a) for a in addresses]
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_cert.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                              ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    cert_path, key_path = out_dir / f"{name}.crt", out_dir / f"{name}.key"
    _write(key_path, _key_pem(key), 0o600)
    _write(cert_path, certificate.public_bytes(serialization.Encoding.PEM), 0o644)
    ca_copy = out_dir / CA_CERT
    ca_pem = ca_cert.public_bytes(serialization.Encoding.PEM)
    if not ca_copy.exists():
        _write(ca_copy, ca_pem, 0o644)
    elif ca_copy.read_bytes() != ca_pem:
        raise CommandError(f"{ca_copy} is another CA's certificate; use another --out")
    return Issued(certificate=cert_path, key=key_path, ca=ca_copy, not_after=not_after,
                  fingerprint=fingerprint(certificate))
