"""``fedlink pki …``: a private CA and server certificates for hub ↔ node TLS (fedlink/pki.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

pki_app = typer.Typer(name="pki", help="TLS certificates for the hub and the nodes.",
                      no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(pki_app, name="pki")


@pki_app.command("init")
def init(
    ca_dir: Annotated[Path, typer.Option("--dir", help="Directory for ca.key and ca.crt.",
                                         show_default=False)],
    name: Annotated[str, typer.Option(help="The CA's common name.")] = "Fedlink federation CA",
    days: Annotated[int, typer.Option(help="Validity of the CA certificate.")] = 3650,
) -> None:
    """Create a private certificate authority (key 0600; keep it offline)."""
    from cryptography import x509

    from fedlink.pki import fingerprint, init_ca

    cert = init_ca(ca_dir, common_name=name, days=days)
    sha = fingerprint(x509.load_pem_x509_certificate(cert.read_bytes()))
    typer.echo(f"CA created: {cert} (distribute it) and {cert.with_name('ca.key')} (0600, "
               "keep it offline)")
    typer.echo(f"  SHA-256 fingerprint {sha}")


@pki_app.command("issue")
def issue(
    ca_dir: Annotated[Path, typer.Option("--ca", help="The CA directory (`pki init`).",
                                         show_default=False)],
    name: Annotated[str, typer.Option(help="Certificate name, e.g. node-k12 or hub.",
                                      show_default=False)],
    out: Annotated[Path, typer.Option(help="Directory for NAME.crt, NAME.key and ca.crt.",
                                      show_default=False)],
    dns: Annotated[list[str] | None, typer.Option(help="A DNS name of the server (repeat).")]
    = None,
    ip: Annotated[list[str] | None, typer.Option(help="An IP address of the server (repeat).")]
    = None,
    days: Annotated[int, typer.Option(help="Validity (at most the CA's).")] = 397,
) -> None:
    """Issue a server certificate signed by the CA (key 0600)."""
    from fedlink.pki import issue as issue_certificate

    issued = issue_certificate(ca_dir, name=name, out_dir=out, dns=dns or [], ips=ip or [],
                               days=days)
    typer.echo(f"issued {issued.certificate} and {issued.key} (0600), valid until "
               f"{issued.not_after:%Y-%m-%d}; peers trust {issued.ca}")
    typer.echo(f"  SHA-256 fingerprint {issued.fingerprint}")
