"""Actionable messages instead of a bare ConnectError: https:// against a plain-http hub,
http:// against a TLS port, and a certificate the client cannot verify (real loopback
servers, real sockets)."""

from __future__ import annotations

import datetime as dt
import http.server
import ipaddress
import json
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fedlink_client import Client, HubUnreachable, RetryPolicy


class _Me(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"id": 1, "name": "Ada", "role": "researcher"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


def _serve(context: ssl.SSLContext | None) -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Me)
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def plain_port() -> Iterator[int]:
    yield from _serve(None)


@pytest.fixture
def tls(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """A TLS server whose self-signed certificate names 127.0.0.1; (port, its cert file)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test hub")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "hub.crt", tmp_path / "hub.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    for port in _serve(context):
        yield port, cert_file


def _client(url: str, **kwargs: object) -> Client:
    return Client(url, token="t", retry=RetryPolicy(retries=0), from_env=False,
                  timeout=5, **kwargs)  # type: ignore[arg-type]


def test_https_against_a_plain_http_hub_says_so(plain_port: int) -> None:
    with _client(f"https://127.0.0.1:{plain_port}") as client, \
            pytest.raises(HubUnreachable) as raised:
        client.me()
    assert str(raised.value) == (
        f"the hub at https://127.0.0.1:{plain_port} does not speak TLS on this port; did you "
        f"mean http://127.0.0.1:{plain_port}?")
    assert raised.value.exit_code == 6
    with _client(f"http://127.0.0.1:{plain_port}") as client:
        assert client.me().name == "Ada"  # the suggestion works


def test_http_against_a_tls_port_says_to_use_https(tls: tuple[int, Path]) -> None:
    port, _ = tls
    with _client(f"http://127.0.0.1:{port}") as client, \
            pytest.raises(HubUnreachable) as raised:
        client.me()
    assert f"use https://127.0.0.1:{port}" in str(raised.value)


def test_an_unverifiable_certificate_asks_for_the_ca_file(tls: tuple[int, Path]) -> None:
    port, cert = tls
    with _client(f"https://127.0.0.1:{port}") as client, \
            pytest.raises(HubUnreachable) as raised:
        client.me()
    message = str(raised.value)
    assert message.startswith(f"the hub's certificate at https://127.0.0.1:{port} cannot be "
                              "verified")
    assert "give the hub's CA with --ca-file / ca_file=" in message
    with _client(f"https://127.0.0.1:{port}", ca_file=cert) as client:
        assert client.me().name == "Ada"  # the advice works
