"""The airlock: output tables are checked automatically, released by every agency's steward,
then public."""

from __future__ import annotations

from typing import Any

Federation = Any  # tests/hub/extracts/conftest.py

SAFE = "school,Female,Male,Total\nOak,*,*,16\nElm,*,*,27\nPine,30,40,70\nTotal,49,64,113\n"
LEAKY = "school,Female,Male,Total\nOak,12,4,16\nElm,*,20,27\nTotal,19,24,43\n"


def _submit(fed: Federation, project: str, csv: str, token: str | None = None,
            kind: str = "frequency") -> Any:
    return fed.hub.client.post(
        "/v1/outputs", headers=fed.hub.auth(token or fed.researcher[1]),
        json={"project_id": project, "name": "Enrolment by school", "kind": kind, "csv": csv,
              "description": "Counts of students"})


def test_output_released_by_every_steward_becomes_public(federation: Federation) -> None:
    fed = federation
    project, _, _ = fed.ready_project()
    submitted = _submit(fed, project, SAFE)
    assert submitted.status_code == 201, submitted.text
    output = submitted.json()
    assert (output["status"], output["checks"]["passed"]) == ("pending_review", True)
    path = f"/v1/outputs/{output['id']}/reviews"
    first = fed.hub.client.post(path, json={"decision": "release"},
                                headers=fed.hub.auth(fed.stewards["SCH"]))
    assert first.json()["status"] == "pending_review"
    public = fed.hub.client.get(f"/v1/public/outputs/{output['id']}")
    assert public.status_code == 404  # not yet released
    second = fed.hub.client.post(path, json={"decision": "release"},
                                 headers=fed.hub.auth(fed.stewards["COL"]))
    assert second.json()["status"] == "released"
    entry = next(p for p in fed.hub.client.get("/v1/public/projects").json()[
        "approved_projects"] if p["id"] == project)
    assert [o["id"] for o in entry["released_outputs"]] == [output["id"]]
    assert "comments" not in entry["released_outputs"][0]
    public = fed.hub.client.get(f"/v1/public/outputs/{output['id']}")
    assert public.status_code == 200 and public.text == SAFE


def test_failing_checks_return_the_output_with_findings(federation: Federation) -> None:
    fed = federation
    project, _, _ = fed.ready_project()
    output = _submit(fed, project, LEAKY).json()
    assert output["status"] == "returned"
    assert {f["check"] for f in output["checks"]["findings"]} == {"small_cell",
                                                                  "recoverable_cell"}
    records = _submit(fed, project, "school,ell,score\nOak,true,1\nOak,true,2\nElm,false,3\n",
                      kind="records").json()
    assert records["status"] == "returned"
    assert records["checks"]["summary"]["quasi_identifiers"] == ["school", "ell"]
    late = fed.hub.client.post(f"/v1/outputs/{output['id']}/reviews",
                               json={"decision": "release"},
                               headers=fed.hub.auth(fed.stewards["SCH"]))
    assert (late.status_code, late.json()["error"]) == (409, "not_pending")


def test_steward_returns_with_comments(federation: Federation) -> None:
    fed = federation
    project, _, _ = fed.ready_project()
    output = _submit(fed, project, SAFE).json()
    path = f"/v1/outputs/{output['id']}/reviews"
    bare = fed.hub.client.post(path, json={"decision": "return"},
                               headers=fed.hub.auth(fed.stewards["SCH"]))
    assert bare.status_code == 422
    returned = fed.hub.client.post(path, json={"decision": "return",
                                               "comments": "Pine is identifiable"},
                                   headers=fed.hub.auth(fed.stewards["SCH"]))
    assert returned.json()["status"] == "returned"
    detail = fed.hub.client.get(f"/v1/outputs/{output['id']}",
                                headers=fed.hub.auth(fed.researcher[1])).json()
    assert detail["reviews"][0]["comments"] == "Pine is identifiable"
    assert detail["content"] == SAFE


def test_outsiders_cannot_submit_or_review(federation: Federation) -> None:
    fed = federation
    project, _, _ = fed.ready_project()
    outsider = fed.hub.token("researcher", email="eve@elsewhere.example")
    assert _submit(fed, project, SAFE, token=outsider).status_code == 404
    assert _submit(fed, project, SAFE, token=fed.governance[0]).status_code == 403
    output = _submit(fed, project, SAFE).json()
    other_steward = fed.hub.token("steward", agency="K12")
    response = fed.hub.client.post(f"/v1/outputs/{output['id']}/reviews",
                                   json={"decision": "release"},
                                   headers=fed.hub.auth(other_steward))
    assert response.status_code == 404
    bad = _submit(fed, project, "a,b\nx,seven\n")
    assert (bad.status_code, bad.json()["error"]) == (422, "bad_output_table")
