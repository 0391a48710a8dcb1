"""The server CLI's calls for amendments, extensions and renewals (docs/amendments.md),
mixed into :class:`hub.client.HubClient` (``fedlink request amend|extend|renew|…``)."""

from __future__ import annotations

from typing import Any

from hub.client_base import HubCalls
from hub.client_base import quote_segment as _q


class AmendmentCalls(HubCalls):
    """Propose, withdraw and read versions of an agreement."""

    def propose_amendment(self, request_id: str, agreement: dict[str, Any], *, kind: str,
                          reason: str) -> dict[str, Any]:
        """Propose the next version of an approved agreement (docs/amendments.md)."""
        return dict(self._json("POST", f"/v1/requests/{_q(request_id)}/amendments",
                               json={"kind": kind, "reason": reason, "agreement": agreement}))

    def withdraw_amendment(self, request_id: str, reason: str = "") -> dict[str, Any]:
        return dict(self._json("POST", f"/v1/requests/{_q(request_id)}/amendments/withdraw",
                               json={"reason": reason}))

    def agreement_versions(self, request_id: str) -> dict[str, Any]:
        return dict(self._json("GET", f"/v1/requests/{_q(request_id)}/versions"))

    def agreement_version(self, request_id: str, version: int) -> dict[str, Any]:
        return dict(self._json("GET", f"/v1/requests/{_q(request_id)}/versions/{int(version)}"))

    def agreement_diff(self, request_id: str, version: int) -> dict[str, Any]:
        return dict(self._json(
            "GET", f"/v1/requests/{_q(request_id)}/versions/{int(version)}/diff"))
