"""The `fedlink` entry point: every failure is one line and a non-zero exit, never a traceback."""

from __future__ import annotations

import pytest

from fedlink.cli import main
from fedlink.errors import CommandError


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    err = capsys.readouterr().err
    return int(exited.value.code or 0), err


def test_cli_bad_option_value_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _run(capsys, "synth", "--people", "abc", "--out", "/tmp/unused")
    assert code == 2
    assert "--people" in err
    assert "Traceback" not in err


def test_cli_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _run(capsys, "no-such-command")
    assert code == 2
    assert "No such command" in err


def test_cli_command_error_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import fedlink.cli as cli

    def boom(*_: object, **__: object) -> None:
        raise CommandError("the thing is wrong")

    monkeypatch.setattr(cli, "app", boom)
    code, err = _run(capsys, "anything")
    assert code == 2
    assert err == "fedlink: error: the thing is wrong\n"


def test_cli_unexpected_error_has_no_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import fedlink.cli as cli

    def boom(*_: object, **__: object) -> None:
        raise ZeroDivisionError("division by zero")

    monkeypatch.delenv("FEDLINK_DEBUG", raising=False)
    monkeypatch.setattr(cli, "app", boom)
    code, err = _run(capsys, "anything")
    assert code == 1
    assert err.count("\n") == 1
    assert "ZeroDivisionError" in err and "Traceback" not in err
