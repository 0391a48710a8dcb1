"""The server CLI's client for the hub API, on :mod:`fedlink_client`'s transport.

Used by ``fedlink request|review|audit|extract|catalog``; tests hand it
``httpx.ASGITransport`` or a ``TestClient``-style transport, end-to-end tests a real URL.
Sending, retries (idempotent requests only), TLS and scheme-mismatch messages and the
mapping of statuses to errors are :class:`fedlink_client.Client`'s; this class keeps the
server's dict-returning methods and turns every client error into a
:class:`~hub.errors.HubClientError` carrying the hub's ``error`` code, the HTTP status and
the CLI ``exit_code`` (docs/client.md).
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from fedlink_client import Client, Downloaded
from fedlink_client.client import Progress

from hub.client_amendments import AmendmentCalls
from hub.client_base import converted
from hub.client_base import quote_segment as _q
from hub.client_findings import FindingsCalls
from hub.client_incidents import IncidentCalls
from hub.errors import ConfigError, HubClientError


def trust(ca_file: str | None) -> ssl.SSLContext | bool:
    """Verify peers against ``ca_file`` (a private CA bundle) or the system trust store."""
    if not ca_file:
        return True
    try:
        return ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"CA file {ca_file} cannot be used: {exc}") from None




class HubClient(AmendmentCalls, FindingsCalls, IncidentCalls):
    """The hub API for the server's own commands (dicts in, dicts out)."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        transport: httpx.BaseTransport | None = None,
        ca_file: str | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise HubClientError(f"hub URL {base_url!r} must start with http:// or https://",
                                 exit_code=2)
        self.base_url = base_url.rstrip("/")
        with converted():
            #: The typed client underneath (``fedlink_client.Client``).
            self.api = Client(self.base_url, token=token, transport=transport,
                              verify=trust(ca_file), from_env=False)

    def __enter__(self) -> HubClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.api.close()

    # --- plumbing ---------------------------------------------------------------------

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        with converted():
            return self.api.send(method, path, **kwargs)

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

    def record_training(self, user_id: int, *, training: str, completed_on: str,
                        expires_on: str) -> dict[str, Any]:
        """Record a person's completion of a training (governance; never your own)."""
        return dict(self._json("POST", f"/v1/users/{user_id}/training", json={
            "training": training, "completed_on": completed_on, "expires_on": expires_on}))

    def training(self, user_id: int) -> list[dict[str, Any]]:
        """A person's training records (your own, or anyone's for governance, admins and
        auditors), latest expiry first."""
        return list(self._json("GET", f"/v1/users/{user_id}/training"))

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

    def review(self, request_id: str, decision: str, reason: str = "",
               public_reason: str = "",
               criteria: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """A governance review; ``criteria`` answers the review checklist
        ([{id, met, note}], every criterion met for an approval)."""
        body: dict[str, Any] = {"decision": decision, "reason": reason}
        if public_reason:
            body["public_reason"] = public_reason
        if criteria:
            body["criteria"] = criteria
        return dict(self._json("POST", f"/v1/requests/{_q(request_id)}/reviews", json=body))

    def review_policy(self) -> dict[str, Any]:
        """The hub's review checklist, quorums and requester rules."""
        return dict(self._json("GET", "/v1/review-policy"))

    # --- the research agenda (docs/governance-policy.md) ---------------------------------

    def agenda(self) -> list[dict[str, Any]]:
        return list(self._json("GET", "/v1/agenda"))

    def add_agenda_item(self, question: str, description: str = "") -> dict[str, Any]:
        return dict(self._json("POST", "/v1/agenda",
                               json={"question": question, "description": description}))

    def retire_agenda_item(self, item_id: int, reason: str = "") -> dict[str, Any]:
        return dict(self._json("POST", f"/v1/agenda/{int(item_id)}/retire",
                               json={"reason": reason}))

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

    def refresh_schedule(self, request_id: str) -> dict[str, Any]:
        """When the next scheduled refresh run is due (docs/refresh.md)."""
        return dict(self._json("GET", f"/v1/requests/{_q(request_id)}/refresh"))

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
        with converted(), self.api.stream("GET", f"/v1/extracts/{_q(extract_id)}/download") \
                as response:
            yield response

    def receive_extract(self, extract_id: str, out: Path, *, key_file: Path | None = None,
                        progress: Progress | None = None) -> Downloaded:
        """Download, verify (SHA-256), decrypt (when sealed to ``key_file``) and unpack the
        extract into ``out/<id>/`` (:meth:`fedlink_client.Client.download_extract`)."""
        with converted():
            return self.api.download_extract(extract_id, out, key_file=key_file,
                                             progress=progress)

    def submit_output(self, **fields: Any) -> dict[str, Any]:
        return dict(self._json("POST", "/v1/outputs", json=fields))

    def list_outputs(self) -> list[dict[str, Any]]:
        return list(self._json("GET", "/v1/outputs"))

    def get_output(self, output_id: str) -> dict[str, Any]:
        """One output with its CSV, checks and the stewards' reviews."""
        return dict(self._json("GET", f"/v1/outputs/{_q(output_id)}"))

    def protect_table(self, project_id: str, csv: str,
                      group_by: dict[str, Any] | None = None) -> dict[str, Any]:
        """A table of counts back with suppression and rounding per the project's policy
        (``POST /v1/projects/{id}/safe-tables``, docs/safe-outputs.md)."""
        body: dict[str, Any] = {"csv": csv}
        if group_by is not None:
            body["group_by"] = group_by
        return dict(self._json("POST", f"/v1/projects/{_q(project_id)}/safe-tables",
                               json=body))

    def protect_public_use(self, project_id: str, csv: str,
                           continuous: str = "recode") -> dict[str, Any]:
        """A record-level file back made safe for public use, measured on every column
        (``POST /v1/projects/{id}/public-use-files``, docs/public-use-files.md)."""
        return dict(self._json("POST", f"/v1/projects/{_q(project_id)}/public-use-files",
                               json={"csv": csv, "continuous": continuous}))

    def review_output(self, output_id: str, decision: str, comments: str = "") -> dict[str, Any]:
        """A steward's ``release`` or ``return`` (with comments) of an output."""
        return dict(self._json("POST", f"/v1/outputs/{_q(output_id)}/reviews",
                               json={"decision": decision, "comments": comments}))
