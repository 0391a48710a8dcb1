"""Restricted-use and public-use files (docs/public-use-files.md): a record-level output is a
public-use file — only when the agreement authorises one, and measured on every column's
values (the issue's ``sch`` case: 30 schools, no declared quasi-identifier, one school with a
single pupil, must not pass); the hub answers the file recoded with the standard methods, or
refuses it 422 with the findings; the audit log keeps counts, never a value."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from hub.domain.lifecycle import RequestStatus
from hub.persistence import audit as audit_store
from hub.persistence import requests as request_store

PUBLIC = {"file_types": ["restricted_use", "public_use"]}


def _sch_file(rows: int = 1500) -> str:
    """30 schools (`sch`), grade and sex; school S30 has exactly one pupil."""
    rng = np.random.default_rng(11)
    schools = [f"S{i:02d}" for i in rng.integers(1, 30, rows)]
    schools[0] = "S30"
    grades = rng.integers(3, 5, rows)
    sexes = rng.choice(["F", "M"], rows)
    lines = ["sch,grade,sex"] + [f"{s},{g},{x}" for s, g, x in zip(schools, grades, sexes,
                                                                    strict=True)]
    return "\n".join(lines) + "\n"


def _ready(hub: Any, token: str, **overrides: Any) -> str:
    """A submitted request set to ``ready`` in the store (approval and linkage are other
    tests' business)."""
    request_id = hub.submitted_request(token, **overrides)
    with hub.ctx.session_factory() as session:
        request = request_store.get_request(session, request_id=request_id)
        assert request is not None
        request.status = RequestStatus.READY
        session.commit()
    return request_id


def _researcher(hub: Any) -> str:
    return hub.token("researcher", email="ada@uni.example")


def _records(hub: Any, project: str, token: str, csv: str) -> Any:
    return hub.client.post("/v1/outputs", headers=hub.auth(token), json={
        "project_id": project, "name": "Pupils", "kind": "records", "csv": csv})


def _protect(hub: Any, project: str, token: str, csv: str, **body: Any) -> Any:
    return hub.client.post(f"/v1/projects/{project}/public-use-files",
                           headers=hub.auth(token), json={"csv": csv, **body})


def test_sch_unique_school_returned_by_airlock_though_no_quasi_identifier(hub: Any) -> None:
    token = _researcher(hub)
    project = _ready(hub, token, **PUBLIC)
    output = _records(hub, project, token, _sch_file()).json()
    assert output["status"] == "returned"
    checks = output["checks"]
    assert checks["summary"]["quasi_identifiers"] == []  # nothing declared: names not trusted
    assert {"sample_unique", "small_class"} <= {f["check"] for f in checks["findings"]}
    measured = checks["summary"]["public_use"]
    assert measured["msus_by_size"]["1"] >= 1 and measured["column_msus"]["sch"] >= 1
    assert measured["max_risk"] == 1.0
    assert "S30" not in json.dumps(checks)


def test_unique_combination_recoded_and_the_recoded_file_passes_the_airlock(hub: Any) -> None:
    token = _researcher(hub)
    project = _ready(hub, token, **PUBLIC)
    answer = _protect(hub, project, token, _sch_file())
    assert answer.status_code == 200, answer.text
    view = answer.json()
    assert view["passed"] is True and view["findings"] == []
    assert view["airlock_passed"] is True and view["airlock_findings"] == []
    assert view["before"]["sample_uniques"] >= 1 and view["before"]["records_below_k"] >= 1
    assert view["after"]["sample_uniques"] == 0 and view["after"]["records_below_k"] == 0
    assert any(m.startswith("global recoding") for m in view["methods"]["sch"])
    first = view["csv"].splitlines()[1].split(",")
    assert first[0] in ("Other", "*")  # the lone pupil's school is no longer S30
    assert "S30" not in view["csv"]
    submitted = _records(hub, project, token, view["csv"])
    assert submitted.status_code == 201, submitted.text
    assert (submitted.json()["status"], submitted.json()["checks"]["findings"]) == (
        "pending_review", [])


def test_file_that_cannot_be_made_safe_refused_422_with_findings(hub: Any) -> None:
    token = _researcher(hub)
    project = _ready(hub, token, **PUBLIC)
    ids = "pupil,sex\n" + "".join(f"P{i:04d},{'F' if i % 2 else 'M'}\n" for i in range(300))
    refused = _protect(hub, project, token, ids)
    assert (refused.status_code, refused.json()["error"]) == (422, "public_use_unsafe")
    assert "identifier_like (pupil)" in refused.json()["detail"]
    assert "P0001" not in refused.json()["detail"]
    with hub.ctx.session_factory() as session:
        events, _ = audit_store.search_events(session, action="output.public_use_refused")
    assert [e.outcome for e in events] == ["refused:public_use_unsafe"]


def test_restricted_use_agreement_keeps_records_in_the_project(hub: Any) -> None:
    token = _researcher(hub)
    project = _ready(hub, token)  # file_types default: restricted_use only
    refused = _protect(hub, project, token, _sch_file())
    assert (refused.status_code, refused.json()["error"]) == (403, "public_use_not_authorised")
    output = _records(hub, project, token, "grade,sex\n" + "3,F\n" * 20).json()
    assert output["status"] == "returned"
    assert [f["check"] for f in output["checks"]["findings"]] == ["public_use_not_authorised"]


def test_repeated_file_type_refused(hub: Any) -> None:
    token = _researcher(hub)
    created = hub.client.post("/v1/requests", headers=hub.auth(token), json=hub.agreement(
        file_types=["public_use", "public_use"]))
    assert created.status_code == 422


def test_audit_keeps_counts_and_method_names_never_values(hub: Any) -> None:
    token = _researcher(hub)
    project = _ready(hub, token, **PUBLIC)
    assert _protect(hub, project, token, _sch_file()).status_code == 200
    with hub.ctx.session_factory() as session:
        events, _ = audit_store.search_events(session, action="output.public_use_protected")
    assert len(events) == 1
    detail = events[0].detail
    assert (detail["rows"], detail["columns"], detail["k"]) == (1500, 3, 5)
    assert detail["methods"]["sch"][0] == "global recoding"
    assert detail["after"]["records_below_k"] == 0 and detail["before"]["sample_uniques"] >= 1
    text = json.dumps(detail)
    assert "S30" not in text and "S01" not in text


def test_only_personnel_with_training_of_a_ready_project(hub: Any) -> None:
    owner = _researcher(hub)
    project = _ready(hub, owner, **PUBLIC)
    stranger = hub.token("researcher", email="zed@uni.example")
    assert _protect(hub, project, stranger, _sch_file()).status_code == 404
    steward = hub.token("steward", agency="K12")
    assert _protect(hub, project, steward, _sch_file()).status_code == 403
    pending = hub.submitted_request(owner, **PUBLIC)
    refused = _protect(hub, pending, owner, _sch_file())
    assert (refused.status_code, refused.json()["error"]) == (409, "project_not_ready")


def test_restricted_variable_never_in_a_public_use_file(hub: Any) -> None:
    token = _researcher(hub)
    variables = [{"agency": "K12", "variables": ["grade", "disability"], "first_year": 2018,
                  "last_year": 2020},
                 {"agency": "HE", "variables": ["enrolled"], "first_year": 2018,
                  "last_year": 2020}]
    project = _ready(hub, token, variables=variables, **PUBLIC)
    rows = "".join(f"{3 + i % 2},{'true' if i % 3 else 'false'}\n" for i in range(200))
    csv = "grade,disability\n" + rows
    refused = _protect(hub, project, token, csv)
    assert (refused.status_code, refused.json()["error"]) == (403, "record_level_not_allowed")
    assert "K12.disability" in refused.json()["detail"]
    output = _records(hub, project, token, csv).json()
    assert output["status"] == "returned"
    assert [(f["check"], f["where"]) for f in output["checks"]["findings"]
            if f["check"] == "record_level_not_allowed"] == [
        ("record_level_not_allowed", "K12.disability")]
    # Without the restricted column the same records pass.
    kept = _protect(hub, project, token, "grade,sex\n" + "3,F\n4,M\n" * 100)
    assert kept.status_code == 200, kept.text


def test_not_a_records_file_refused_422(hub: Any) -> None:
    token = _researcher(hub)
    project = _ready(hub, token, **PUBLIC)
    for csv in ("grade\n3\n", "grade,grade\n3,4\n", "grade,sex\n", '"a,b\n1,"2\n'):
        refused = _protect(hub, project, token, csv)
        assert (refused.status_code, refused.json()["error"]) == (422, "bad_records_file"), csv


def test_classification_min_k_raises_the_k_a_file_is_measured_with(make_hub: Any) -> None:
    # Stricter-only: a confidential floor of 20 needs restricted at least as strict.
    hub = make_hub(classification_rules={"confidential": {"min_k": 20},
                                         "restricted": {"record_level_download": False,
                                                        "min_k": 20}})
    hub.enroll("K12")
    hub.enroll("HE")
    token = _researcher(hub)
    project = _ready(hub, token, **PUBLIC)  # test_score and enrolled are confidential
    # Every class has 10 records: safe at k = 5, not at 20.
    csv = "grade,sex\n" + "3,F\n4,M\n3,M\n4,F\n" * 10
    output = _records(hub, project, token, csv).json()
    assert output["checks"]["summary"]["public_use"]["k"] == 20
    assert output["status"] == "returned"
    assert "fewer than 20" in json.dumps(output["checks"]["findings"])
    # Two balanced binary columns in classes of 10: no recoding helps at k = 20 short of
    # dropping a column, and suppressing every cell is past the allowance: refused.
    refused = _protect(hub, project, token, csv)
    assert (refused.status_code, refused.json()["error"]) == (422, "public_use_unsafe")
    assert "too_much_suppression" in refused.json()["detail"]
