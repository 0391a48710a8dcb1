"""`fedlink` exit statuses by class (docs/cli.md): usage 2, auth 3, not found 4, conflict 5,
unreachable 6, anything else 1 — always with one line on stderr, never a traceback."""

from __future__ import annotations

import socket
import subprocess
import sys

import httpx
import pytest

import fedlink.cli as cli
from agency_node.errors import HubClientError as NodeHubClientError
from agency_node.errors import NotEnrolledError
from fedlink.errors import CommandError
from hub.errors import HubError, NotFoundError


def _run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
         exc: BaseException) -> tuple[int, str]:
    def boom(*_: object, **__: object) -> None:
        raise exc

    monkeypatch.setattr(cli, "app", boom)
    with pytest.raises(SystemExit) as exited:
        cli.main(["anything"])
    return int(exited.value.code or 0), capsys.readouterr().err


class _NotThere(HubError):
    """An error of a hub client that carries its exit status (as the clients' errors do)."""

    exit_code = 4


def test_an_error_carrying_exit_code_4_exits_4_with_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, err = _run(capsys, monkeypatch, _NotThere("no request 12 on this hub"))
    assert code == 4
    assert err == "fedlink: error: no request 12 on this hub\n"


class _Refused(HubError):
    """Errors of the hub clients carry their exit status by HTTP status."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@pytest.mark.parametrize(("exc", "expected"), [
    (CommandError("bad --format"), 2),
    (CommandError("run failed", exit_code=1), 1),
    (_Refused("401: token unknown", 3), 3),
    (_Refused("409: already approved", 5), 5),
    (_Refused("500: hub failed", 1), 1),
    # A local domain error is invalid input whatever HTTP status the API would give it;
    # start-up refusals (not enrolled: 409 at the API) stay 2, which systemd does not restart.
    (NotEnrolledError("this node is not enrolled (run `fedlink node enroll`)"), 2),
    (NotFoundError("no agency XYZ"), 2),
    (HubError("something off"), 2),
])
def test_user_errors_exit_by_class(capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch,
                                   exc: Exception, expected: int) -> None:
    code, err = _run(capsys, monkeypatch, exc)
    assert code == expected
    assert err.count("\n") == 1 and "Traceback" not in err


def _raised_from_none(inner: BaseException, outer: Exception) -> Exception:
    """``outer`` raised ``from None`` while handling ``inner``, as the hub clients do."""
    try:
        try:
            raise inner
        except BaseException:
            raise outer from None
    except Exception as caught:
        return caught


@pytest.mark.parametrize("exc", [
    ConnectionRefusedError(111, "Connection refused"),
    socket.gaierror(-2, "Name or service not known"),
    TimeoutError("timed out"),
    _raised_from_none(httpx.ConnectError("[Errno 111] Connection refused"),
                      NodeHubClientError("the hub at https://hub cannot be reached")),
    _raised_from_none(httpx.ReadTimeout("read timed out"),
                      HubError("the hub did not answer in time")),
])
def test_unreachable_services_exit_6(capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch,
                                     exc: Exception) -> None:
    code, err = _run(capsys, monkeypatch, exc)
    assert code == 6
    assert err.startswith("fedlink: error: ") and err.count("\n") == 1


def test_a_refusal_caused_by_a_database_error_stays_2(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    exc = _raised_from_none(ConnectionRefusedError(111, "Connection refused"),
                            HubError("the hub database cannot be reached; check database_url"))
    code, _ = _run(capsys, monkeypatch, exc)
    assert code == 2


def test_a_file_error_stays_a_usage_error(capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    code, err = _run(capsys, monkeypatch,
                     FileNotFoundError(2, "No such file or directory", "/nope/node.toml"))
    assert code == 2
    assert err == "fedlink: error: No such file or directory: /nope/node.toml\n"


def test_a_broken_pipe_is_not_unreachable(capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    code, _ = _run(capsys, monkeypatch, BrokenPipeError(32, "Broken pipe"))
    assert code == 2


def test_a_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["run", "status"])  # missing argument
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "Missing argument" in err and "Traceback" not in err


def test_an_unreachable_hub_exits_6_end_to_end() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    done = subprocess.run(
        [sys.executable, "-m", "fedlink.cli", "request", "list",
         "--hub", f"http://127.0.0.1:{port}"],
        capture_output=True, text=True, timeout=120,
        env={"FEDLINK_TOKEN": "not-a-real-token", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 6, done.stderr
    assert done.stderr.startswith("fedlink: error: ") and done.stderr.count("\n") == 1
