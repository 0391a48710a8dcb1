"""The hub's client towards nodes: it trusts the federation CA from settings, and never
sends to a plain-http node off loopback unless the demo switch is on."""

from __future__ import annotations

import http.server
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from fedlink.pki import Issued, init_ca, issue
from hub.errors import ConfigError
from hub.node_client import make_node_http_client, node_url
from hub.settings import HubSettings


class _Ok(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def tls_node(tmp_path: Path) -> Iterator[tuple[str, Issued]]:
    init_ca(tmp_path / "ca")
    cert = issue(tmp_path / "ca", name="node", out_dir=tmp_path / "tls", dns=["localhost"],
                 ips=["127.0.0.1"])
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert.certificate, cert.key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", cert
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_node_client_trusts_the_federation_ca_only(tls_node: tuple[str, Issued],
                                                   tmp_path: Path) -> None:
    url, cert = tls_node
    trusting = HubSettings.load(tmp_path / "h1", ca_file=str(cert.ca))
    with make_node_http_client(trusting) as client:
        assert client.get(f"{node_url(trusting, url)}/health").text == "ok"
    with make_node_http_client(HubSettings.load(tmp_path / "h2")) as client, \
            pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        client.get(f"{url}/health")


def test_node_client_refuses_plain_http_nodes_off_loopback(tmp_path: Path) -> None:
    settings = HubSettings.load(tmp_path / "h")
    with pytest.raises(ConfigError, match="plain http"):
        node_url(settings, "http://k12.example:8101")
    with pytest.raises(ConfigError, match="not an http"):
        node_url(settings, "ftp://k12.example")
    assert node_url(settings, "http://127.0.0.1:8101/") == "http://127.0.0.1:8101"
    assert node_url(settings, "https://k12.example:8101/") == "https://k12.example:8101"
    demo = HubSettings.load(tmp_path / "h", allow_insecure_http=True)
    assert node_url(demo, "http://k12.example:8101") == "http://k12.example:8101"
    with pytest.raises(ConfigError, match="CA file"):
        make_node_http_client(HubSettings.load(tmp_path / "h", ca_file=str(tmp_path / "no")))
