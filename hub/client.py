"""A Python client for the hub API (httpx, injectable transport).

Used by ``fedlink request|review|audit``; tests hand it ``httpx.ASGITransport`` or a
``fastapi.testclient.TestClient``-style transport, end-to-end tests a real URL. Every
refusal becomes a :class:`~hub.errors.HubClientError` carrying the hub's ``error`` code and
HTTP status; network failures one sentence naming the hub.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import httpx

from hub.errors import ConfigError, HubClientError

_TIMEOUT = httpx.Timeout(30.0, connect=10.0)


def trust(ca_file: str | None) -> ssl.SSLContext | bool:
    """Verify peers against ``ca_file`` (a private CA bundle) or the system trust store."""
    if not ca_file:
        return True
    try:
        return ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"CA file {ca_file} cannot be used: {exc}") from None


def _q(value: str) -> str:
    return quote(value, safe="")


class HubClient:
    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        transport: httpx.BaseTransport | None = None,
        ca_file: str | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise HubClientError(f"hub URL {base_url!r} must start with http:// or https://")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.base_url = base_url.rstrip("/")
        self._client = httpx.Client(base_url=self.base_url, headers=headers,
                                    transport=transport, timeout=_TIMEOUT,
                                    verify=trust(ca_file))

    def __enter__(self) -> HubClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    # --- plumbing ---------------------------------------------------------------------

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.TimeoutException:
            raise HubClientError(f"the hub at {self.base_url} did not answer in time") from None
        except httpx.HTTPError as exc:
            raise HubClientError(
                f"the hub at {self.base_url} cannot be reached ({type(exc).__name__})"
            ) from None
        self._check(method, path, response)
        return response

    @staticmethod
    def _check(method: str, path: str, response: httpx.Response) -> None:
        if response.is_error:
            code, detail = "hub_error", response.reason_phrase
            try:
                body = response.json()
            except ValueError:
                body = None
            if isinstance(body, dict):
                code = str(body.get("error", code))
                detail = str(body.get("detail", detail))
            raise HubClientError(
                f"the hub refused {method} {path}: {code} ({response.status_code}): {detail}",
                code=code, status=response.status_code,
            )

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._send(method, path, **kwargs)
        try:
            return response.json()
        except ValueError:
            raise HubClientError(f"the hub answered {method} {path} with something not "
                                 "JSON") from None

    # --- public and identity ------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        return dict(self._json("GET", "/health"))

    def hub_keys(self) -> dict[str, Any]:
        return dict(self._json("GET", "/v1/hub/keys"))

    def public_projects(self) -> dict[str, Any]:
        return dict(self._json("GET", "/v1/public/projects"))

    def me(self) -> dict[str, Any]:
        return dict(self._json("GET", "/v1/me"))

    def invite(self, **fields: Any) -> dict[str, Any]:
        """An invitation (admin); its ``code`` is for the invitee alone."""
        return dict(self._json("POST", "/v1/invitations", json=fields))

    def redeem_invitation(self, code: str, *, label: str = "") -> dict[str, Any]:
        """Your own account and first token, for your invitation code (no token needed)."""
        return dict(self._json("POST", "/v1/invitations/redeem",
                               json={"code": code, "label": label}))

    def pending_accounts(self) -> list[dict[str, Any]]:
        return list(self._json("GET", "/v1/users/pending"))

    def approve_account(self, user_id: int) -> dict[str, Any]:
        return dict(self._json("POST", f"/v1/users/{user_id}/approve"))

    def issue_token(self, *, label: str = "", ttl_days: int | None = None) -> dict[str, Any]:
        """A new token for your own account (no one can issue one for another user)."""
        body: dict[str, Any] = {"label": label}
        if ttl_days is not None:
            body["ttl_days"] = ttl_days
        return dict(self._json("POST", "/v1/me/tokens", json=body))

    def my_tokens(self) -> list[dict[str, Any]]:
        return list(self._json("GET", "/v1/me/tokens"))

    def revoke_my_token(self, token_id: int) -> dict[str, Any]:
        return dict(self._json("DELETE", f"/v1/me/tokens/{token_id}"))

    def declare_conflict(self, request_id: str, *, conflicted: bool,
                         reason: str = "") -> dict[str, Any]:
        return dict(self._json("POST", f"/v1/requests/{_q(request_id)}/conflicts",
                               json={"conflicted": conflicted, "reason": reason}))

    def revoke_token(self, token_id: int) -> dict[str, Any]:
        return dict(self._json("DELETE", f"/v1/tokens/{token_id}"))

    def catalog(self, agency: str | None = None) -> list[dict[str, Any]]:
        params = {"agency": agency} if agency else None
        return list(self._json("GET", "/v1/catalog", params=params))

    # --- requests ---------------------------------------------------------------------

    def create_request(self, agreement: dict[str, Any]) -> dict[str, Any]:
        return dict(self._json("POST", "/v1/requests", json=agreement))

    def list_requests(self, status: str | None = None) -> list[dict[str, Any]]:
        params = {"status": status} if status else None
        return list(self._json("GET", "/v1/requests", params=params))

    def get_request(self, request_id: str) -> dict[str, Any]:
        return dict(self._json("GET", f"/v1/requests/{_q(request_id)}"))

    def edit_request(self, request_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        return dict(self._json("PATCH", f"/v1/requests/{_q(request_id)}", json=changes))

    def submit_request(self, request_id: str) -> dict[str, Any]:
        return dict(self._json("POST", f"/v1/requests/{_q(request_id)}/submit"))

    def withdraw_request(self, request_id: str, reason: str = "") -> dict[str, Any]:
        return dict(self._json("POST", f"/v1/requests/{_q(request_id)}/withdraw",
                               json={"reason": reason}))

    def revoke_request(self, request_id: str, reason: str) -> dict[str, Any]:
        return dict(self._json("POST", f"/v1/requests/{_q(request_id)}/revoke",
                               json={"reason": reason}))

    def review(self, request_id: str, decision: str, reason: str = "") -> dict[str, Any]:
        return dict(self._json("POST", f"/v1/requests/{_q(request_id)}/reviews",
                               json={"decision": decision, "reason": reason}))

    # --- governance keys (docs/hub.md, "Governance keys") -----------------------------

    def register_governance_key(self, public_key: str) -> dict[str, Any]:
        return dict(self._json("POST", "/v1/governance/keys", json={"public_key": public_key}))

    def governance_roster(self) -> dict[str, Any]:
        return dict(self._json("GET", "/v1/governance/roster"))

    def submit_roster(self, signatures: list[dict[str, Any]]) -> dict[str, Any]:
        return dict(self._json("POST", "/v1/governance/roster",
                               json={"signatures": signatures}))

    def project_terms(self, request_id: str) -> dict[str, Any]:
        return dict(self._json("GET", f"/v1/requests/{_q(request_id)}/project-terms"))

    def signed_review(self, request_id: str, envelope_json: bytes) -> dict[str, Any]:
        return dict(self._json("POST", f"/v1/requests/{_q(request_id)}/signed-reviews",
                               content=envelope_json,
                               headers={"Content-Type": "application/json"}))

    def signed_revocation(self, request_id: str, envelope_json: bytes) -> dict[str, Any]:
        return dict(self._json("POST", f"/v1/requests/{_q(request_id)}/revocations",
                               content=envelope_json,
                               headers={"Content-Type": "application/json"}))

    # --- linkage runs (docs/linkage-runs.md) ------------------------------------------

    def start_run(self, request_id: str) -> dict[str, Any]:
        return dict(self._json("POST", f"/v1/requests/{_q(request_id)}/runs"))

    def list_runs(self, request_id: str) -> list[dict[str, Any]]:
        return list(self._json("GET", f"/v1/requests/{_q(request_id)}/runs"))

    def get_run(self, request_id: str, run_id: str) -> dict[str, Any]:
        return dict(self._json("GET", f"/v1/requests/{_q(request_id)}/runs/{_q(run_id)}"))

    def run_report_html(self, request_id: str, run_id: str) -> str:
        return self._send(
            "GET", f"/v1/requests/{_q(request_id)}/runs/{_q(run_id)}/report.html").text

    # --- audit ------------------------------------------------------------------------

    def audit_events(self, *, after_seq: int = 0, limit: int = 100,
                     **filters: str | None) -> dict[str, Any]:
        params: dict[str, Any] = {k: v for k, v in filters.items() if v}
        params.update(after_seq=after_seq, limit=limit, format="json")
        return dict(self._json("GET", "/v1/audit/events", params=params))

    def iter_audit_events(self, **filters: str | None) -> Iterator[dict[str, Any]]:
        """Every matching event, page by page (1000 a page)."""
        after = 0
        while True:
            page = self.audit_events(after_seq=after, limit=1000, **filters)
            yield from page["events"]
            if page["next_after_seq"] is None:
                return
            after = int(page["next_after_seq"])

    def audit_export(self, fmt: str, **filters: str | None) -> str:
        params: dict[str, Any] = {k: v for k, v in filters.items() if v}
        params["format"] = fmt
        return self._send("GET", "/v1/audit/events", params=params).text

    def audit_checkpoints(self) -> dict[str, Any]:
        return dict(self._json("GET", "/v1/audit/checkpoints"))

    def audit_checkpoint_now(self) -> dict[str, Any]:
        return dict(self._json("POST", "/v1/audit/checkpoints"))

    # --- the transparency log (docs/hub.md) -------------------------------------------

    def tlog_checkpoints(self) -> dict[str, Any]:
        return dict(self._json("GET", "/v1/audit/tlog/checkpoints"))

    def tlog_checkpoint_now(self) -> dict[str, Any]:
        return dict(self._json("POST", "/v1/audit/tlog/checkpoints"))

    def tlog_consistency(self, old_size: int, new_size: int) -> list[str]:
        params = {"old_size": old_size, "new_size": new_size}
        return list(self._json("GET", "/v1/audit/tlog/proof/consistency",
                               params=params)["hashes"])

    def tlog_node_checkpoints(self, agency: str | None = None) -> list[dict[str, Any]]:
        params = {"agency": agency} if agency else {}
        return list(self._json("GET", "/v1/audit/tlog/node-checkpoints", params=params))

    def agencies(self) -> list[dict[str, Any]]:
        return list(self._json("GET", "/v1/agencies"))

    # --- extracts and outputs (docs/extracts.md) --------------------------------------

    def build_extract(self, project_id: str, *, run_id: str | None = None,
                      variables: dict[str, list[str]] | None = None, wait: float = 600.0,
                      poll: float = 0.5) -> dict[str, Any]:
        """Ask for the extract; the assembly role builds it. Waits up to ``wait`` seconds
        while it is ``building`` (0: return at once) and returns its metadata."""
        body: dict[str, Any] = {"project_id": project_id}
        if run_id:
            body["run_id"] = run_id
        if variables is not None:
            body["variables"] = variables
        extract = dict(self._json("POST", "/v1/extracts", json=body))
        deadline = time.monotonic() + wait
        while extract.get("status") == "building" and time.monotonic() < deadline:
            time.sleep(poll)
            extract = self.get_extract(str(extract["id"]))
        return extract

    def list_extracts(self) -> list[dict[str, Any]]:
        return list(self._json("GET", "/v1/extracts"))

    def get_extract(self, extract_id: str) -> dict[str, Any]:
        return dict(self._json("GET", f"/v1/extracts/{_q(extract_id)}"))

    def certify_destruction(self, extract_id: str, statement: str) -> dict[str, Any]:
        return dict(self._json("POST", f"/v1/extracts/{_q(extract_id)}/certify-destruction",
                               json={"statement": statement}))

    @contextmanager
    def download_extract(self, extract_id: str) -> Iterator[httpx.Response]:
        """The download response, streaming (``iter_bytes()``); refusals raise."""
        path = f"/v1/extracts/{_q(extract_id)}/download"
        try:
            response = self._client.send(self._client.build_request("GET", path), stream=True)
        except httpx.HTTPError as exc:
            raise HubClientError(
                f"the hub at {self.base_url} cannot be reached ({type(exc).__name__})"
            ) from None
        try:
            if response.is_error:
                response.read()
                self._check("GET", path, response)
            yield response
        finally:
            response.close()

    def submit_output(self, **fields: Any) -> dict[str, Any]:
        return dict(self._json("POST", "/v1/outputs", json=fields))

    def list_outputs(self) -> list[dict[str, Any]]:
        return list(self._json("GET", "/v1/outputs"))
