"""The real agency node's commands against the real hub (in process): enrollment, terms,
and a node-signed steward approval that the hub verifies and counts."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

from fedlink import hub_options
from fedlink.cli import main
from fedlink.commands import node as node_commands
from hub.api.app import create_app
from hub.settings import HubSettings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = 0
    try:
        main(list(args))
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _last_token(output: str) -> str:
    return re.findall(r"token[^:]*: (\S+)", output)[0]


def test_node_enrolls_and_its_signed_approval_counts(tmp_path: Path, capsys,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    hub_dir, node_dir = tmp_path / "hub", tmp_path / "node"
    assert run(capsys, "hub", "init", "--dir", str(hub_dir))[0] == 0
    client = TestClient(create_app(HubSettings.load(hub_dir)))
    monkeypatch.setattr(node_commands, "hub_transport", client._transport)
    monkeypatch.setattr(hub_options, "transport", client._transport)
    monkeypatch.setenv("FEDLINK_NODE_ALLOW_INSECURE_HTTP", "1")  # http://hub.test, in-process
    try:
        source = tmp_path / "k12.csv"
        source.write_text("record_id,first_name,last_name,dob,sex,grade,school_year\n"
                          "1,Ann,Lee,2005-03-01,F,3,2018\n2,Bob,Ray,2005-04-02,M,4,2019\n")
        code, _, err = run(capsys, "node", "init", "--agency", "K12", "--name", "K12",
                           "--dir", str(node_dir), "--source", str(source))
        assert code == 0, err
        code, out, err = run(capsys, "hub", "agency", "add", "K12", "--dir", str(hub_dir),
                             "--name", "K12", "--url", "http://k12:8101")
        assert code == 0, err
        enrollment = _last_token(out)
        monkeypatch.setenv("FEDLINK_ENROLLMENT_TOKEN", enrollment)
        code, out, err = run(capsys, "node", "enroll", "--dir", str(node_dir), "--hub",
                             "http://hub.test")
        assert code == 0, err
        invited = run(capsys, "hub", "user", "add", "--dir", str(hub_dir), "--role",
                      "researcher", "--name", "R")[1]
        monkeypatch.setenv("FEDLINK_INVITATION", re.findall(r"code[^:]*: (\S+)", invited)[0])
        researcher = _last_token(run(capsys, "user", "redeem", "--hub", "http://hub.test")[1])
        catalog = client.get("/v1/catalog", headers={"Authorization": f"Bearer {researcher}"})
        assert {v["variable"] for v in catalog.json()} >= {"grade"}
        body = {
            "title": "Grades", "institution": "U", "research_questions": ["Q?"],
            "public_summary": "S", "scope_and_deliverables": "D", "allowable_uses": ["stats"],
            "variables": [{"agency": "K12", "variables": ["grade"], "first_year": 2018,
                           "last_year": 2019}],
            "cohort_description": "All", "personnel": [{"name": "R", "role": "PI",
                                                        "institution": "U"}],
            "agency_contacts": [{"agency": "K12", "name": "K", "email": "k@k12.example"}],
            "security_plan": "P", "term_start": "2026-01-01", "term_end": "2026-12-31",
            "refresh_frequency": "once", "matching_authorised": True, "disposition": "destroy",
            "interim_findings_plan": "None",
            # Approved only with the IRB's approval or exemption (require_irb_approval).
            "irb": {"status": "exempt", "board": "U IRB", "protocol_number": "X-1",
                    "approval_date": "2025-01-02"},
        }
        auth = {"Authorization": f"Bearer {researcher}"}
        request_id = client.post("/v1/requests", json=body, headers=auth).json()["id"]
        client.post(f"/v1/requests/{request_id}/submit", headers=auth)
        steward = tmp_path / "steward.pem"
        code, out, err = run(capsys, "node", "steward", "keygen", "--key-file", str(steward))
        assert code == 0, err
        public = re.findall(r"public key:\s*(\S+)", out)[0]
        code, out, err = run(capsys, "node", "steward", "add", "--dir", str(node_dir),
                             "--public-key", public, "--label", "K12 steward")
        assert code == 0, err
        code, out, err = run(capsys, "node", "approve", request_id, "--dir", str(node_dir),
                             "--yes", "--steward-key", str(steward))
        assert code == 0, err
        detail = client.get(f"/v1/requests/{request_id}", headers=auth).json()
        assert detail["status"] == "in_review"
        assert [(d["agency"], d["decision"]) for d in detail["agency_decisions"]] == [
            ("K12", "approve")]
        assert detail["waiting_for"] == ["2 more governance approval(s)"]
    finally:
        client.close()
