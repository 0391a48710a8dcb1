"""The server's ``fedlink`` command on the same client: ``fedlink catalog``, exit codes by
class through HubClientError, and the client's TLS message."""

from __future__ import annotations

import json
from typing import Any

import pytest

from fedlink import hub_options
from fedlink.cli import main

Hub = Any


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = 0
    try:
        main(list(args))
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def researcher(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(hub_options, "transport", hub.client._transport)
    monkeypatch.setenv("FEDLINK_HUB_URL", "http://hub.test")
    token = hub.token("researcher")
    monkeypatch.setenv("FEDLINK_TOKEN", token)
    return token


def test_fedlink_catalog(researcher: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "catalog")
    assert code == 0, err
    lines = out.splitlines()
    assert any(line.split()[:3] == ["K12", "grade", "2015-2024"] for line in lines)
    assert any(line.startswith("HE ") and "enrolled" in line for line in lines)
    code, out, _ = run(capsys, "catalog", "--agency", "HE", "--json")
    assert code == 0 and {row["agency"] for row in json.loads(out)} == {"HE"}
    code, out, _ = run(capsys, "catalog", "--agency", "NOPE")
    assert code == 0 and out == "agency NOPE offers no variables (or is not enrolled)\n"


def test_exit_codes_by_class(researcher: str, capsys: pytest.CaptureFixture[str],
                             monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = run(capsys, "extract", "show", "ext-nope")
    assert code == 4 and err.startswith("fedlink: error: the hub refused GET") and \
        "not_found (404)" in err
    monkeypatch.setenv("FEDLINK_TOKEN", "not-a-token")
    code, _, err = run(capsys, "catalog")
    assert code == 3 and "(401)" in err


def test_tls_mismatch_through_the_server_cli(capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """https:// against a port that answers plain HTTP: exit 6 and the client's advice."""
    import http.server
    import threading

    class Quiet(http.server.BaseHTTPRequestHandler):
        def log_message(self, *_args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    monkeypatch.setenv("FEDLINK_TOKEN", "t")
    monkeypatch.delenv("FEDLINK_CA_FILE", raising=False)
    try:
        code, _, err = run(capsys, "catalog", "--hub", f"https://127.0.0.1:{port}")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
    assert code == 6
    assert err == (f"fedlink: error: the hub at https://127.0.0.1:{port} does not speak TLS "
                   f"on this port; did you mean http://127.0.0.1:{port}?\n")
