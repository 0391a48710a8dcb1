"""The `fedlink node …` and `fedlink audit verify --node-dir` commands, end to end in-process
(the fake hub answers enroll/approve/deny through an injected httpx transport)."""

from __future__ import annotations

import json
import secrets
import sqlite3
from pathlib import Path
from types import SimpleNamespace

import pytest

import fedlink.commands.node as node_command
from agency_node.config import read_config
from agency_node.runtime import NodeRuntime
from fedlink.cli import main
from protocol.identity import IDENTITY_FIELDS


def run(*argv: str) -> int:
    try:
        main(list(argv))
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return 0


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("fedlink: error: ")
    return err[0]


def test_node_init_auto_maps_a_synth_csv(tmp_path: Path) -> None:
    assert run("synth", "--people", "60", "--seed", "5", "--out", str(tmp_path / "syn")) == 0
    node_dir = tmp_path / "k12"
    assert run("node", "init", "--agency", "K12", "--name", "Dept of Education",
               "--dir", str(node_dir), "--source", str(tmp_path / "syn" / "k12.csv")) == 0
    config = read_config(node_dir)
    assert config.mapping.record_id == "record_id"
    assert set(config.mapping.identity) == set(IDENTITY_FIELDS)
    assert config.mapping.identity == {f: f for f in IDENTITY_FIELDS}
    assert config.mapping.year_column == "school_year"
    assert config.mapping.ignore == ["truth_id"]
    assert "truth_id" not in {v.column for v in config.variables.values()}
    # Special education is proposed restricted (docs/classification.md), the rest not.
    assert {n: v.classification for n, v in config.variables.items()
            if v.classification != "confidential"} == {"sped_flag": "restricted"}


def test_node_setup_flow_never_prints_the_secret(
    tmp_path: Path, source_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    node_dir = tmp_path / "n"
    secret_hex = secrets.token_hex(32)
    (tmp_path / "secret.hex").write_text(secret_hex)
    assert run("node", "init", "--agency", "K12", "--name", "K-12", "--dir", str(node_dir),
               "--source", str(source_csv)) == 0
    assert run("node", "secret", "import", str(tmp_path / "secret.hex"),
               "--dir", str(node_dir)) == 0
    assert run("node", "ingest", "--dir", str(node_dir)) == 0
    out = capsys.readouterr().out
    assert secret_hex not in out and "fingerprint" in out
    assert "4 rows, 4 loaded, 0 quarantined" in out
    assert run("node", "profile", "--dir", str(node_dir), "--json") == 0
    profile = json.loads(capsys.readouterr().out)
    assert profile["records"] == 4
    assert run("audit", "verify", "--node-dir", str(node_dir)) == 0
    assert "audit chain intact, 2 events" in capsys.readouterr().out


def test_node_ingest_strict_exits_non_zero(
    node_dir: Path, source_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with source_csv.open("a") as handle:
        handle.write("K12-0009,Ann,Lee\n")
    assert run("node", "ingest", "--dir", str(node_dir), "--strict") == 2
    assert "nothing was loaded" in one_error_line(capsys)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["node", "ingest", "--dir", "{tmp}/missing"], "does not exist"),
        (["node", "profile", "--dir", "{tmp}/missing"], "does not exist"),
        (["node", "init", "--agency", "K12", "--name", "n", "--dir", "{tmp}/n",
          "--source", "{tmp}/nope.csv"], "nope.csv does not exist"),
        (["node", "init", "--agency", "K12", "--name", "n", "--dir", "{tmp}/n"],
         "exactly one of --source"),
        (["node", "init", "--agency", "K 12!", "--name", "n", "--dir", "{tmp}/n",
          "--source", "{tmp}/k12.csv"], "agency"),
        (["node", "secret", "import", "{tmp}/nope", "--dir", "{tmp}/missing"], "does not exist"),
        (["audit", "verify"], "exactly one of --node-dir"),
    ],
    ids=["ingest_missing_dir", "profile_missing_dir", "missing_source", "no_source",
         "bad_agency", "secret_missing_dir", "audit_no_target"],
)
def test_cli_errors_are_one_line_and_non_zero(
    tmp_path: Path, source_csv: Path, capsys: pytest.CaptureFixture[str],
    argv: list[str], message: str,
) -> None:
    code = run(*[a.format(tmp=tmp_path) for a in argv])
    assert code != 0
    assert message in one_error_line(capsys)


def test_audit_verify_cli_names_altered_event(
    node_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("node", "ingest", "--dir", str(node_dir)) == 0
    assert run("node", "ingest", "--dir", str(node_dir)) == 0
    with sqlite3.connect(node_dir / "node.sqlite3") as db:
        db.execute("UPDATE audit_events SET details = '{}' WHERE seq = 1")
    capsys.readouterr()
    assert run("audit", "verify", "--node-dir", str(node_dir)) != 0
    assert "audit event 1" in one_error_line(capsys)


def test_enroll_approve_deny_through_the_cli(
    node_dir: Path, fake_hub: object, wire: SimpleNamespace,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(node_command, "hub_transport", fake_hub.transport())
    monkeypatch.setenv("FEDLINK_NODE_ALLOW_INSECURE_HTTP", "1")  # the fake hub is http://
    monkeypatch.setenv("FEDLINK_ENROLLMENT_TOKEN", fake_hub.enrollment_token)
    assert run("node", "enroll", "--dir", str(node_dir), "--hub", "http://hub.test") == 0
    assert "enrolled K12" in capsys.readouterr().out
    # hub-sent text is shown as it is, never interpreted as console markup
    fake_hub.terms[wire.PROJECT] = wire.make_terms(title="Pathways [/bold] to college")
    with NodeRuntime.open(node_dir) as runtime:
        wire.register_steward(runtime)
    key = str(wire.steward_key_file(node_dir.parent / "steward.pem"))
    assert run("node", "approve", wire.PROJECT, "--dir", str(node_dir), "--yes",
               "--steward-key", key) == 0
    out = capsys.readouterr().out
    assert "Pathways [/bold] to college" in out and "grade_level, gpa" in out
    assert f"project {wire.PROJECT} approved on this node" in out
    assert run("node", "deny", wire.PROJECT, "--dir", str(node_dir), "--yes",
               "--reason", "withdrawn by the steward", "--steward-key", key) == 0
    assert [d.decision for d in fake_hub.decisions] == ["approve", "deny"]


def test_approve_asks_for_confirmation(
    node_dir: Path, fake_hub: object, wire: SimpleNamespace,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(node_command, "hub_transport", fake_hub.transport())
    monkeypatch.setenv("FEDLINK_NODE_ALLOW_INSECURE_HTTP", "1")  # the fake hub is http://
    monkeypatch.setenv("FEDLINK_ENROLLMENT_TOKEN", fake_hub.enrollment_token)
    assert run("node", "enroll", "--dir", str(node_dir), "--hub", "http://hub.test") == 0
    fake_hub.terms[wire.PROJECT] = wire.make_terms()
    with NodeRuntime.open(node_dir) as runtime:
        wire.register_steward(runtime)
    key = str(wire.steward_key_file(node_dir.parent / "steward.pem"))
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("n\n"))
    assert run("node", "approve", wire.PROJECT, "--dir", str(node_dir),
               "--steward-key", key) != 0
    assert "not confirmed" in one_error_line(capsys)
    assert fake_hub.decisions == []


def test_node_serve_before_enrollment_is_one_line(
    node_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("node", "serve", "--dir", str(node_dir)) != 0
    assert "secret import" in one_error_line(capsys)
