"""The server CLI's calls for incident response (docs/incident-response.md), mixed into
:class:`hub.client.HubClient` (``fedlink incident …``)."""

from __future__ import annotations

from typing import Any

from hub.client_base import HubCalls
from hub.client_base import quote_segment as _q


class IncidentCalls(HubCalls):
    """Open, contain, report on, notify and close incidents."""

    def open_incident(self, body: dict[str, Any]) -> dict[str, Any]:
        return dict(self._json("POST", "/v1/incidents", json=body))

    def list_incidents(self) -> list[dict[str, Any]]:
        return list(self._json("GET", "/v1/incidents"))

    def get_incident(self, incident_id: str) -> dict[str, Any]:
        return dict(self._json("GET", f"/v1/incidents/{_q(incident_id)}"))

    def contain_incident(self, incident_id: str, *, revocation: dict[str, Any] | None,
                         suspend_users: bool = True) -> dict[str, Any]:
        return dict(self._json(
            "POST", f"/v1/incidents/{_q(incident_id)}/contain",
            json={"revocation": revocation, "suspend_users": suspend_users}))

    def add_node_log(self, incident_id: str, *, agency: str,
                     events: list[dict[str, Any]]) -> dict[str, Any]:
        return dict(self._json("POST", f"/v1/incidents/{_q(incident_id)}/node-logs",
                                        json={"agency": agency, "events": events}))

    def access_report(self, incident_id: str) -> dict[str, Any]:
        return dict(self._json(
            "GET", f"/v1/incidents/{_q(incident_id)}/access-report"))

    def notify_incident(self, incident_id: str) -> dict[str, Any]:
        return dict(self._json("POST", f"/v1/incidents/{_q(incident_id)}/notify"))

    def close_incident(self, incident_id: str, resolution: str) -> dict[str, Any]:
        return dict(self._json("POST", f"/v1/incidents/{_q(incident_id)}/close",
                                        json={"resolution": resolution}))
