"""GET /health and GET /v1/dictionary; unknown routes and methods answer JSON 4xx."""

from __future__ import annotations

from fastapi.testclient import TestClient

from protocol.wire import CatalogVariable


def test_health_ok(api: TestClient) -> None:
    response = api.get("/health")
    assert response.json() == {"status": "ok", "agency": "K12"}


def test_dictionary_lists_variables_and_classification_without_values(api: TestClient) -> None:
    response = api.get("/v1/dictionary")
    assert response.status_code == 200
    body = response.json()
    variables = {v["name"]: CatalogVariable.model_validate(v) for v in body["variables"]}
    assert set(variables) == {"school_year", "grade_level", "gpa", "ell"}
    assert variables["grade_level"].type == "integer"
    assert variables["gpa"].type == "number"
    assert variables["ell"].type == "boolean"
    assert variables["gpa"].years == (2019, 2020, 2021)
    # English-learner status is proposed restricted by init (docs/classification.md).
    assert {n: v.classification for n, v in variables.items()} == {
        "school_year": "confidential", "grade_level": "confidential", "gpa": "confidential",
        "ell": "restricted"}
    for value in (b"3.4", b"Maria", b"K12-0001", b"P1"):
        assert value not in response.content


def test_unknown_route_and_method_are_json_errors(api: TestClient) -> None:
    assert api.get("/nope").json()["error"] == "not_found"
    response = api.get("/v1/match-requests")
    assert (response.status_code, response.json()["error"]) == (405, "method_not_allowed")
