"""Shared by the amendment API tests (the hub is ``amend_hub``, tests/hub/api/conftest.py):
an approved project, reading its versions, and proposals (docs/amendments.md)."""

from __future__ import annotations

import datetime as dt
from typing import Any


def _term(hub: Any, *, days: int = 365, **overrides: Any) -> dict[str, Any]:
    today = hub.clock().date()
    return hub.agreement(term_start=str(today - dt.timedelta(days=30)),
                         term_end=str(today + dt.timedelta(days=days)), **overrides)


def _approved(hub: Any, **overrides: Any) -> tuple[str, str, list[str]]:
    """(project id, researcher token, governance tokens) of a project both agencies and
    two governance members approved."""
    researcher = hub.token("researcher", email="ada@uni.example")
    governance = [hub.token("governance"), hub.token("governance")]
    project = hub.submitted_request(researcher, **_term(hub, **overrides))
    for agency in ("K12", "HE"):
        assert hub.decide(project, agency).status_code == 200
    for token in governance:
        assert hub.review(project, token).status_code == 201
    assert hub.status(project, researcher) == "approved"
    return project, researcher, governance


def _version(hub: Any, project: str, token: str, number: int) -> dict[str, Any]:
    response = hub.client.get(f"/v1/requests/{project}/versions/{number}",
                              headers=hub.auth(token))
    assert response.status_code == 200, response.text
    return dict(response.json())


def _propose(hub: Any, project: str, token: str, kind: str = "amendment", *,
             reason: str = "the study needs it", **changes: Any) -> Any:
    agreement = {**_version(hub, project, token, 1)["agreement"], **changes}
    return hub.client.post(f"/v1/requests/{project}/amendments", headers=hub.auth(token),
                           json={"kind": kind, "reason": reason, "agreement": agreement})


def _with_attendance(hub: Any, project: str, token: str) -> list[dict[str, Any]]:
    variables = _version(hub, project, token, 1)["agreement"]["variables"]
    variables[0] = {**variables[0], "variables": [*variables[0]["variables"], "attendance"]}
    return list(variables)


def _versions(hub: Any, project: str, token: str) -> dict[str, Any]:
    response = hub.client.get(f"/v1/requests/{project}/versions", headers=hub.auth(token))
    assert response.status_code == 200, response.text
    return dict(response.json())


def _detail(hub: Any, project: str, token: str) -> dict[str, Any]:
    response = hub.client.get(f"/v1/requests/{project}", headers=hub.auth(token))
    assert response.status_code == 200, response.text
    return dict(response.json())
