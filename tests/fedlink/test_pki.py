"""`fedlink pki init/issue`: a private CA and server certificates that verify strictly,
with private keys of mode 0600, and refusals that say what to do."""

from __future__ import annotations

import ipaddress
import ssl
import stat
from pathlib import Path

import pytest
from cryptography import x509

from fedlink.cli import main
from fedlink.errors import CommandError
from fedlink.pki import init_ca, issue


def run(*argv: str) -> int:
    try:
        main(list(argv))
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return 0


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_pki_cli_makes_ca_and_server_certificate_with_private_keys(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ca, out = tmp_path / "ca", tmp_path / "k12"
    assert run("pki", "init", "--dir", str(ca)) == 0
    assert run("pki", "issue", "--ca", str(ca), "--name", "node-k12", "--dns", "localhost",
               "--dns", "k12.example", "--ip", "127.0.0.1", "--out", str(out)) == 0
    printed = capsys.readouterr().out
    assert "node-k12.key (0600)" in printed and "SHA-256 fingerprint" in printed
    assert (mode(ca / "ca.key"), mode(out / "node-k12.key"), mode(ca)) == (0o600, 0o600, 0o700)
    cert = x509.load_pem_x509_certificate((out / "node-k12.crt").read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost", "k12.example"]
    assert names.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    assert (out / "ca.crt").read_bytes() == (ca / "ca.crt").read_bytes()
    # The pair loads as a server identity and the chain verifies under strict X.509 rules.
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(out / "node-k12.crt", out / "node-k12.key")
    cert.verify_directly_issued_by(x509.load_pem_x509_certificate((ca / "ca.crt").read_bytes()))


def test_pki_issue_refuses_what_it_cannot_do_safely(tmp_path: Path) -> None:
    ca = tmp_path / "ca"
    init_ca(ca)
    with pytest.raises(CommandError, match="at least one --dns"):
        issue(ca, name="hub", out_dir=tmp_path / "o", dns=[], ips=[])
    with pytest.raises(CommandError, match="--ip"):
        issue(ca, name="hub", out_dir=tmp_path / "o", dns=[], ips=["not-an-ip"])
    with pytest.raises(CommandError, match="--name"):
        issue(ca, name="../etc/x", out_dir=tmp_path / "o", dns=["h"], ips=[])
    issue(ca, name="hub", out_dir=tmp_path / "o", dns=["hub"], ips=[])
    with pytest.raises(CommandError, match="already exists"):
        issue(ca, name="hub", out_dir=tmp_path / "o", dns=["hub"], ips=[])
    with pytest.raises(CommandError, match="already exists"):
        init_ca(ca)
    other = tmp_path / "other-ca"
    init_ca(other)
    with pytest.raises(CommandError, match="another CA's certificate"):
        issue(other, name="node", out_dir=tmp_path / "o", dns=["n"], ips=[])
    (ca / "ca.key").chmod(0o644)
    with pytest.raises(CommandError, match="chmod 600"):
        issue(ca, name="n2", out_dir=tmp_path / "p", dns=["n"], ips=[])
    with pytest.raises(CommandError, match="pki init"):
        issue(tmp_path / "nothing", name="n", out_dir=tmp_path / "q", dns=["n"], ips=[])
