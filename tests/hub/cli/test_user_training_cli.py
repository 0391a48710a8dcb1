"""``fedlink user training record/list``: governance records a person's training, the
person lists their own; refusals are one line with the hub's exit code. In process against
a hub app through :func:`fedlink.cli.main`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from tests.cli_support import run, write_token


def test_cli_records_and_lists_training(cli_hub: Any, tmp_path: Path, capsys: Any) -> None:
    hub = cli_hub
    user_id, researcher = hub.user("researcher", email="ada@uni.example")
    governance = write_token(tmp_path, "governance", hub.token("governance"))
    mine = write_token(tmp_path, "researcher", researcher)
    today = hub.clock().date()
    expires = today + dt.timedelta(days=365)
    code, out, err = run(capsys, "user", "training", "record", str(user_id), "--training",
                         "research-ethics", "--completed", today.isoformat(), "--expires",
                         expires.isoformat(), "--token-file", governance)
    assert code == 0, err
    assert out.strip() == (f"user {user_id}: research-ethics completed {today.isoformat()}, "
                           f"expires {expires.isoformat()}")
    code, out, err = run(capsys, "user", "training", "list", str(user_id),
                         "--token-file", mine)
    assert code == 0, err
    lines = out.strip().splitlines()  # latest expiry first: the factory's ten years
    assert len(lines) == 2 and lines[0].startswith("data-privacy\t")
    assert lines[1].startswith(f"research-ethics\tcompleted {today.isoformat()}\texpires "
                               f"{expires.isoformat()}\tcurrent\trecorded by user:")


def test_cli_refusals_are_one_line(cli_hub: Any, tmp_path: Path, capsys: Any) -> None:
    hub = cli_hub
    user_id, researcher = hub.user("researcher")
    mine = write_token(tmp_path, "researcher", researcher)
    code, _, err = run(capsys, "user", "training", "record", str(user_id), "--training",
                       "data-privacy", "--completed", "2026-01-01", "--expires", "2027-01-01",
                       "--token-file", mine)
    assert "forbidden (403): role 'researcher' may not do this (admitted: governance)" in err
    assert code == 3 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    code, _, err = run(capsys, "user", "training", "record", str(user_id), "--training",
                       "data-privacy", "--completed", "yesterday", "--expires", "2027-01-01",
                       "--token-file", mine)
    assert code == 2 and "--completed takes a date as YYYY-MM-DD" in err
    other = hub.user("researcher")[0]
    code, _, err = run(capsys, "user", "training", "list", str(other), "--token-file", mine)
    assert code == 3 and "only your own training records" in err
