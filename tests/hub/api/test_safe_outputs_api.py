"""Automatic safe outputs (docs/safe-outputs.md): a table of counts comes back with primary
and complementary suppression and rounding per the project's policy, with a reason per
suppressed cell, and the airlock accepts it; a project may only tighten the hub's floors;
tables that are not counts are refused 4xx; training is required; the audit log keeps the
shape, never a value."""

from __future__ import annotations

import json
from typing import Any

import pytest

from hub.domain.lifecycle import RequestStatus
from hub.persistence import audit as audit_store
from hub.persistence import requests as request_store

#: Oak/Female is 3: primary; Oak/Male, Elm/Female and Elm/Male its complements (the
#: smallest cells closing Oak's row, Female's column and the cycle).
TABLE = "school,Female,Male\nOak,3,13\nElm,20,30\nPine,30,40\n"


def _ready(hub: Any, token: str, **overrides: Any) -> str:
    """A submitted request set to ``ready`` in the store (approval and linkage are other
    tests' business: only the outputs matter here)."""
    request_id = hub.submitted_request(token, **overrides)
    with hub.ctx.session_factory() as session:
        request = request_store.get_request(session, request_id=request_id)
        assert request is not None
        request.status = RequestStatus.READY
        session.commit()
    return request_id


def _protect(hub: Any, project: str, token: str, csv: str, **body: Any) -> Any:
    return hub.client.post(f"/v1/projects/{project}/safe-tables", headers=hub.auth(token),
                           json={"csv": csv, **body})


def _researcher(hub: Any) -> str:
    return hub.token("researcher", email="ada@uni.example")


def _cell(view: dict[str, Any], row: str, column: str) -> dict[str, Any]:
    cell: dict[str, Any] = view["cells"][view["row_labels"].index(row)][
        view["column_labels"].index(column)]
    return cell


def test_cell_of_three_suppressed_with_complements_and_airlock_accepts(hub: Any) -> None:
    token = _researcher(hub)
    project = _ready(hub, token)
    answer = _protect(hub, project, token, TABLE)
    assert answer.status_code == 200, answer.text
    view = answer.json()
    assert _cell(view, "Oak", "Female") == {"value": None, "status": "primary",
                                            "reason": "primary: a count below 10"}
    hidden = {(r, c) for r in view["row_labels"] for c in view["column_labels"]
              if _cell(view, r, c)["value"] is None}
    assert hidden == {("Oak", "Female"), ("Oak", "Male"), ("Elm", "Female"), ("Elm", "Male")}
    assert (view["primary"], view["complementary"]) == (1, 3)
    assert "row 'Oak'" in _cell(view, "Oak", "Male")["reason"]
    assert all(_cell(view, r, c)["status"] == "complementary"
               for r, c in hidden - {("Oak", "Female")})
    # Published cells and margins are the true counts (no rounding by default).
    assert _cell(view, "Pine", "Male")["value"] == 40
    assert _cell(view, "Total", "Total")["value"] == 136
    assert view["csv"] == ("school,Female,Male,Total\nOak,*,*,16\nElm,*,*,50\n"
                           "Pine,30,40,70\nTotal,53,83,136\n")
    assert view["airlock_passed"] is True and view["airlock_findings"] == []
    submitted = hub.client.post("/v1/outputs", headers=hub.auth(token), json={
        "project_id": project, "name": "Enrolment by school", "kind": "frequency",
        "csv": view["csv"]})
    assert submitted.status_code == 201, submitted.text
    assert (submitted.json()["status"], submitted.json()["checks"]["passed"]) == (
        "pending_review", True)
    # The unprotected table itself would have been returned by the airlock.
    raw = hub.client.post("/v1/outputs", headers=hub.auth(token), json={
        "project_id": project, "name": "raw", "kind": "frequency", "csv": TABLE})
    assert raw.json()["status"] == "returned"


def test_one_way_table_with_total_gets_a_complement(hub: Any) -> None:
    token = _researcher(hub)
    project = _ready(hub, token)
    view = _protect(hub, project, token, "band,n\nlow,4\nmid,25\nhigh,31\nTotal,60\n").json()
    assert view["one_way"] is True and view["input_had_margins"] is True
    assert [c[0]["status"] for c in view["cells"]] == [
        "primary", "complementary", "published", "published"]
    assert view["csv"] == "band,n\nlow,*\nmid,*\nhigh,31\nTotal,60\n"
    assert view["airlock_passed"] is True


def test_project_rounding_rounds_published_counts_and_totals(hub: Any) -> None:
    token = _researcher(hub)
    project = _ready(hub, token, outputs={"rounding_base": 5, "min_cell": 12})
    view = _protect(hub, project, token, "school,Female,Male\nOak,12,47\nElm,23,38\n").json()
    assert view["rules"] == {"min_cell": 12, "rounding_base": 5, "suppress_zeros": False,
                             "project_set": ["min_cell", "rounding_base"]}
    assert view["rounded"] is True and view["primary"] == 0
    # Nearest multiple of 5, totals rounded on their own (59 → 60, 61 → 60, 120).
    assert view["csv"] == ("school,Female,Male,Total\nOak,15,45,60\nElm,25,40,60\n"
                           "Total,35,85,120\n")
    # 12 rounds to 10, below the project's 12: shown as 15, never below the threshold.
    assert _cell(view, "Oak", "Female")["value"] == 15
    assert view["airlock_passed"] is True


def test_project_stricter_threshold_suppresses_more(hub: Any) -> None:
    token = _researcher(hub)
    project = _ready(hub, token, outputs={"min_cell": 20, "suppress_zeros": True})
    view = _protect(hub, project, token, "band,n\nlow,0\nmid,15\nhigh,80\n").json()
    assert view["rules"]["min_cell"] == 20
    assert [c[0]["status"] for c in view["cells"][:3]] == ["primary", "primary", "published"]
    assert view["cells"][1][0]["reason"] == "primary: a count below 20"
    assert "zero" in view["cells"][0][0]["reason"]
    # The airlock applies the project's threshold too: the 15 sent directly is returned.
    direct = hub.client.post("/v1/outputs", headers=hub.auth(token), json={
        "project_id": project, "name": "by hand", "kind": "frequency",
        "csv": "band,n\nlow,0\nmid,15\nhigh,80\nTotal,95\n"}).json()
    assert direct["status"] == "returned"
    assert [f["check"] for f in direct["checks"]["findings"]] == ["small_cell"]
    # The hub default (10) would have published the 15.
    default = _ready(hub, token)
    plain = _protect(hub, default, token, "band,n\nlow,0\nmid,15\nhigh,80\n").json()
    assert plain["cells"][1][0] == {"value": 15, "status": "published", "reason": None}


@pytest.mark.parametrize("outputs, why", [
    ({"min_cell": 5}, "min_cell 5 is below the hub's 10"),
    ({"rounding_base": 3}, "not a multiple of the hub's 5"),
    ({"suppress_zeros": False}, "suppress_zeros cannot be false"),
])
def test_project_cannot_loosen_below_the_hub_floor(make_hub: Any, outputs: dict[str, Any],
                                                   why: str) -> None:
    hub = make_hub(safe_output_rounding_base=5, safe_output_suppress_zeros=True)
    hub.enroll("K12")
    hub.enroll("HE")
    token = _researcher(hub)
    refused = hub.client.post("/v1/requests", headers=hub.auth(token),
                              json=hub.agreement(outputs=outputs))
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"] == "output_policy_below_floor"
    assert why in refused.json()["detail"]
    draft = hub.create_request(token)
    edited = hub.client.patch(f"/v1/requests/{draft}", headers=hub.auth(token),
                              json={"outputs": outputs})
    assert (edited.status_code, edited.json()["error"]) == (422, "output_policy_below_floor")


BAD = {
    "non_numeric": ("school,Female,Male\nOak,three,13\nElm,20,30\n", "bad_table",
                    "line 2, column 2 is not a whole count"),
    "negative": ("school,Female,Male\nOak,-3,13\nElm,20,30\n", "bad_table", "negative"),
    "fraction": ("school,Female,Male\nOak,3.5,13\nElm,20,30\n", "bad_table", "whole count"),
    "ragged": ("school,Female,Male\nOak,3\nElm,20,30\n", "ragged_table", "line 2 has 2"),
    "suppressed": ("school,Female,Male\nOak,*,13\nElm,20,30\n", "already_suppressed",
                   "already suppressed"),
    "margins": ("school,Female,Male,Total\nOak,3,13,17\nElm,20,30,50\n", "margins_mismatch",
                "line 2"),
    "repeated_label": ("school,n\nOak,3\nOak,13\n", "bad_table", "repeats"),
    "header_only": ("school,n\n", "bad_table", "at least one row"),
    "too_large": ("g," + ",".join(f"c{j}" for j in range(200)) + "\n" + "\n".join(
        f"r{i}," + ",".join("20" for _ in range(200)) for i in range(60)) + "\n",
        "table_too_large", "more than 10000 cells"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_tables_refused_with_422_and_audited(hub: Any, name: str) -> None:
    csv, code, why = BAD[name]
    token = _researcher(hub)
    project = _ready(hub, token)
    refused = _protect(hub, project, token, csv)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"] == code
    assert why in refused.json()["detail"]
    with hub.ctx.session_factory() as session:
        events, _ = audit_store.search_events(session, action="output.protect_refused")
    assert [e.outcome for e in events] == [f"refused:{code}"]


def test_training_required_and_only_personnel(hub: Any) -> None:
    owner = _researcher(hub)
    project = _ready(hub, owner)
    invited = hub.client.post("/v1/invitations", headers=hub.auth(hub.admin_token), json={
        "name": "Bo", "role": "researcher", "email": "ada@uni.example"})
    untrained = hub.client.post("/v1/invitations/redeem",
                                json={"code": invited.json()["code"]}).json()["token"]
    refused = _protect(hub, project, untrained, TABLE)
    assert (refused.status_code, refused.json()["error"]) == (403, "training_required")
    stranger = hub.token("researcher", email="zed@uni.example")
    hidden = _protect(hub, project, stranger, TABLE)
    assert hidden.status_code == 404
    steward = hub.token("steward", agency="K12")
    assert _protect(hub, project, steward, TABLE).status_code == 403


def test_project_not_ready_refused(hub: Any) -> None:
    token = _researcher(hub)
    project = hub.submitted_request(token)
    refused = _protect(hub, project, token, TABLE)
    assert (refused.status_code, refused.json()["error"]) == (409, "project_not_ready")


def test_audit_keeps_shape_and_suppressed_counts_never_values(hub: Any) -> None:
    token = _researcher(hub)
    project = _ready(hub, token)
    assert _protect(hub, project, token, TABLE,
                    group_by={"rows": "school", "columns": "sex"}).status_code == 200
    with hub.ctx.session_factory() as session:
        events, _ = audit_store.search_events(session, action="output.protected")
    assert len(events) == 1
    detail = events[0].detail
    assert detail == {"rows": 3, "columns": 2, "primary": 1, "complementary": 3,
                      "min_cell": 10, "rounding_base": 1, "suppress_zeros": False,
                      "airlock_passed": True,
                      "group_by": {"rows": "school", "columns": "sex"}}
    text = json.dumps(detail)
    assert "Oak" not in text and "136" not in text and "13" not in text
