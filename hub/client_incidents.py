"""The server CLI's calls for incident response (docs/incident-response.md), mixed into
:class:`hub.client.HubClient` (``fedlink incident …``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fedlink_client import Client

from hub.client_errors import converted


def _q(value: str) -> str:
    return quote(value, safe="")


class IncidentCalls:
    """Needs the host class's ``api`` (a :class:`fedlink_client.Client`)."""

    api: Client

    def _incident_call(self, method: str, path: str, **kwargs: Any) -> Any:
        with converted():
            return self.api.request_json(method, path, **kwargs)

    def open_incident(self, body: dict[str, Any]) -> dict[str, Any]:
        return dict(self._incident_call("POST", "/v1/incidents", json=body))

    def list_incidents(self) -> list[dict[str, Any]]:
        return list(self._incident_call("GET", "/v1/incidents"))

    def get_incident(self, incident_id: str) -> dict[str, Any]:
        return dict(self._incident_call("GET", f"/v1/incidents/{_q(incident_id)}"))

    def contain_incident(self, incident_id: str, *, revocation: dict[str, Any] | None,
                         suspend_users: bool = True) -> dict[str, Any]:
        return dict(self._incident_call(
            "POST", f"/v1/incidents/{_q(incident_id)}/contain",
            json={"revocation": revocation, "suspend_users": suspend_users}))

    def add_node_log(self, incident_id: str, *, agency: str,
                     events: list[dict[str, Any]]) -> dict[str, Any]:
        return dict(self._incident_call("POST", f"/v1/incidents/{_q(incident_id)}/node-logs",
                                        json={"agency": agency, "events": events}))

    def access_report(self, incident_id: str) -> dict[str, Any]:
        return dict(self._incident_call(
            "GET", f"/v1/incidents/{_q(incident_id)}/access-report"))

    def notify_incident(self, incident_id: str) -> dict[str, Any]:
        return dict(self._incident_call("POST", f"/v1/incidents/{_q(incident_id)}/notify"))

    def close_incident(self, incident_id: str, resolution: str) -> dict[str, Any]:
        return dict(self._incident_call("POST", f"/v1/incidents/{_q(incident_id)}/close",
                                        json={"resolution": resolution}))
