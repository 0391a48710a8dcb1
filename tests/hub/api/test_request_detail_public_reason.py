"""The request detail carries a denial's public reason next to the internal one."""

from __future__ import annotations

from typing import Any


def _deny(hub: Any, request_id: str, governance: str) -> None:
    response = hub.client.post(
        f"/v1/requests/{request_id}/reviews", headers=hub.auth(governance),
        json={"decision": "deny", "reason": "Internal: the PI's last project leaked a file",
              "public_reason": "The data asked for exceeds what the questions need."})
    assert response.status_code == 201, response.text


def test_denied_request_detail_shows_public_and_internal_reason(hub: Any) -> None:
    researcher = hub.token("researcher")
    request_id = hub.submitted_request(researcher)
    _deny(hub, request_id, hub.token("governance"))
    for token in (researcher, hub.token("auditor")):
        detail = hub.client.get(f"/v1/requests/{request_id}", headers=hub.auth(token)).json()
        assert detail["status"] == "denied"
        assert detail["public_reason"] == ("The data asked for exceeds what the questions "
                                           "need.")
        assert detail["decision_reason"] == "Internal: the PI's last project leaked a file"


def test_agency_denial_detail_has_the_generated_public_reason(hub: Any) -> None:
    researcher = hub.token("researcher")
    request_id = hub.submitted_request(researcher)
    assert hub.decide(request_id, "K12", "deny", reason="Steward Sam says no").status_code == 200
    detail = hub.client.get(f"/v1/requests/{request_id}", headers=hub.auth(researcher)).json()
    assert detail["public_reason"] == ("The data steward of K12 declined to provide the "
                                       "requested data.")
    assert detail["decision_reason"] == "K12: Steward Sam says no"


def test_undecided_request_has_no_public_reason(hub: Any) -> None:
    researcher = hub.token("researcher")
    request_id = hub.submitted_request(researcher)
    detail = hub.client.get(f"/v1/requests/{request_id}", headers=hub.auth(researcher)).json()
    assert detail["public_reason"] is None
