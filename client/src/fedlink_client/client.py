"""The synchronous client of a Fedlink hub.

``Client()`` with no arguments reads ``FEDLINK_HUB_URL``, ``FEDLINK_TOKEN`` (or the 0600
file named by ``FEDLINK_TOKEN_FILE``) and ``FEDLINK_CA_FILE``, the same settings as the
``fedlink`` and ``fedlink-client`` commands (``from_env=False``: none of them). Every failure is a
:class:`~fedlink_client.errors.FedlinkClientError`; see :mod:`fedlink_client.errors`.
Tests hand it ``transport=`` (``httpx.MockTransport``, an in-process app).
"""

from __future__ import annotations

import hashlib
import os
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx

from fedlink_client import _api as api
from fedlink_client import extracts as ex
from fedlink_client._findings_methods import FindingsMethods
from fedlink_client._http import (
    DEFAULT_TIMEOUT,
    IDEMPOTENT,
    RetryPolicy,
    check_base_url,
    refusal,
    resolve_token,
    resolve_verify,
    retry_after_seconds,
    should_retry,
    transient,
    unreachable,
    user_agent,
)
from fedlink_client.errors import HubFailed
from fedlink_client.models import (
    AgreementDiff,
    AgreementVersion,
    AgreementVersions,
    AuditEvent,
    CatalogVariable,
    Extract,
    IssuedToken,
    Output,
    PublicAgencyCatalog,
    PublicProject,
    RedeemedAccount,
    RefreshSchedule,
    Request,
    RequestSummary,
    Run,
    TokenInfo,
    User,
)

T = TypeVar("T")
#: ``progress(bytes_received_now, total_bytes_or_None)`` during a download.
Progress = Callable[[int, int | None], None]


class Client(FindingsMethods):
    """A researcher's (or any user's) connection to one hub."""

    def __init__(self, base_url: str | None = None, *, token: str | None = None,
                 token_file: str | Path | None = None, ca_file: str | Path | None = None,
                 verify: bool | ssl.SSLContext | None = None,
                 transport: httpx.BaseTransport | None = None,
                 timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
                 retry: RetryPolicy | None = None,
                 from_env: bool = True,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        env = os.environ if from_env else {}
        self.base_url = check_base_url(base_url or env.get("FEDLINK_HUB_URL"))
        secret = resolve_token(token, token_file, env=env)
        headers = {"User-Agent": user_agent()}
        if secret:
            headers["Authorization"] = f"Bearer {secret}"
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        verified = resolve_verify(ca_file, verify, env=env)
        self._http = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout,
                                  transport=transport, verify=verified)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # --- plumbing ---------------------------------------------------------------------

    def send(self, method: str, path: str, *, stream: bool = False,
             **kwargs: Any) -> httpx.Response:
        """Send one request (retrying what :mod:`fedlink_client._http` allows); the
        response, or the error for a refusal or a network failure."""
        method = method.upper()
        attempt = 0
        while True:
            request = self._http.build_request(method, path, **kwargs)
            try:
                response = self._http.send(request, stream=stream)
            except httpx.TransportError as exc:
                if method in IDEMPOTENT and transient(exc) and attempt < self.retry.retries:
                    self._sleep(self.retry.delay(attempt))
                    attempt += 1
                    continue
                raise unreachable(exc, self.base_url) from None
            if not response.is_error:
                return response
            if should_retry(method, response.status_code) and attempt < self.retry.retries:
                wait = retry_after_seconds(response) if response.status_code == 429 else None
                response.close()
                self._sleep(self.retry.delay(attempt, wait))
                attempt += 1
                continue
            try:
                response.read()
            finally:
                response.close()
            raise refusal(method, path, response, self.base_url)

    def call(self, call: api.Call[T]) -> T:
        """Send ``call`` and read its answer."""
        response = self.send(call.method, call.path, params=call.params, json=call.json,
                             **call.extra)
        try:
            body = response.json()
        except ValueError:
            raise HubFailed(f"the hub answered {call.method} {call.path} with something not "
                            "JSON", status=response.status_code, code="not_json",
                            detail="") from None
        return call.parse(body)

    def request_json(self, method: str, path: str, *,
                       params: dict[str, Any] | None = None, json: Any = None,
                       **kwargs: Any) -> Any:
        """Any endpoint; its JSON answer as it is (for callers with their own models)."""
        return self.call(api.raw(method, path, params=params, json=json, **kwargs))

    @contextmanager
    def stream(self, method: str, path: str, **kwargs: Any) -> Iterator[httpx.Response]:
        """The response to ``method path``, its body not yet read (``iter_bytes()``)."""
        response = self.send(method, path, stream=True, **kwargs)
        try:
            yield response
        finally:
            response.close()

    # --- identity ---------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        return self.call(api.health())

    def me(self) -> User:
        """Who this token belongs to."""
        return self.call(api.me())

    def redeem_invitation(self, code: str, *, label: str = "") -> RedeemedAccount:
        """Your account and first token, for your one-time invitation code."""
        return self.call(api.redeem_invitation(code, label))

    def issue_token(self, *, label: str = "", ttl_days: int | None = None) -> IssuedToken:
        return self.call(api.issue_token(label, ttl_days))

    def my_tokens(self) -> list[TokenInfo]:
        return self.call(api.my_tokens())

    def revoke_my_token(self, token_id: int) -> TokenInfo:
        return self.call(api.revoke_my_token(token_id))

    # --- catalog and public list ------------------------------------------------------

    def catalog(self, agency: str | None = None) -> list[CatalogVariable]:
        """Every variable the agencies offer (signed in: completeness, codes)."""
        return self.call(api.catalog(agency))

    def public_catalog(self) -> list[PublicAgencyCatalog]:
        return self.call(api.public_catalog())

    def public_projects(self, *, page_size: int = 100) -> Iterator[PublicProject]:
        """Every approved project on the public list, fetched a page at a time."""
        offset: int | None = 0
        while offset is not None:
            page = self.call(api.public_projects_page(page_size, offset))
            for row in page.get("approved_projects", []):
                yield PublicProject.model_validate(row)
            offset = (page.get("page") or {}).get("next_offset")

    def audit_events(self, *, page_size: int = 1000, **filters: str | None
                     ) -> Iterator[AuditEvent]:
        """Every audit event matching ``filters`` (auditors), a page at a time."""
        after = 0
        while True:
            page = self.call(api.audit_page(after, page_size, filters))
            for row in page.get("events", []):
                yield AuditEvent.model_validate(row)
            following = page.get("next_after_seq")
            if following is None:
                return
            after = int(following)

    # --- requests and runs ------------------------------------------------------------

    def create_request(self, agreement: Mapping[str, Any] | str | Path, *,
                       recipient_key: str | None = None) -> Request:
        """Draft a request from an agreement (a dict, or a JSON file's path); with
        ``recipient_key`` (from :func:`~fedlink_client.generate_key`) the extract will be
        sealed to your key."""
        return self.call(api.create_request(agreement, recipient_key))

    def list_requests(self, status: str | None = None) -> list[RequestSummary]:
        return self.call(api.list_requests(status))

    def get_request(self, request_id: str) -> Request:
        """One request: its status, agreement, reviews and what it waits for."""
        return self.call(api.get_request(request_id))

    def edit_request(self, request_id: str, changes: Mapping[str, Any]) -> Request:
        return self.call(api.edit_request(request_id, changes))

    def submit_request(self, request_id: str) -> Request:
        return self.call(api.submit_request(request_id))

    def withdraw_request(self, request_id: str, reason: str = "") -> Request:
        return self.call(api.withdraw_request(request_id, reason))

    def list_runs(self, request_id: str) -> list[Run]:
        return self.call(api.list_runs(request_id))

    def get_run(self, request_id: str, run_id: str) -> Run:
        return self.call(api.get_run(request_id, run_id))

    def refresh_schedule(self, request_id: str) -> RefreshSchedule:
        """When the project's next scheduled refresh run is due (docs/refresh.md)."""
        return self.call(api.refresh_schedule(request_id))

    # --- amendments, extensions, renewals (docs/amendments.md) -------------------------

    def propose_amendment(self, request_id: str, agreement: Mapping[str, Any] | str | Path,
                          *, kind: str = "amendment", reason: str) -> AgreementVersion:
        """Propose the next version of your approved project's agreement (``kind``:
        ``amendment``, ``extension`` or ``renewal``); it goes straight to review."""
        return self.call(api.propose_amendment(request_id, agreement, kind=kind,
                                                   reason=reason))

    def withdraw_amendment(self, request_id: str, reason: str = "") -> AgreementVersion:
        """Withdraw the proposal under review; the version in force stays."""
        return self.call(api.withdraw_amendment(request_id, reason))

    def agreement_versions(self, request_id: str) -> AgreementVersions:
        """The project's agreement versions and the one in force."""
        return self.call(api.agreement_versions(request_id))

    def agreement_version(self, request_id: str, version: int) -> AgreementVersion:
        """One version with its complete agreement (``.agreement``)."""
        return self.call(api.agreement_version(request_id, version))

    def agreement_diff(self, request_id: str, version: int) -> AgreementDiff:
        """What ``version`` changed, field by field."""
        return self.call(api.agreement_diff(request_id, version))

    # --- extracts and outputs ---------------------------------------------------------

    def build_extract(self, project_id: str, *, run_id: str | None = None,
                      variables: Mapping[str, list[str]] | None = None,
                      wait: float = 600.0, poll: float = 1.0) -> Extract:
        """Ask for the project's linked extract and wait up to ``wait`` seconds while the
        hub builds it (0: return at once, ``building``)."""
        extract = self.call(api.start_extract(project_id, run_id, variables))
        deadline = time.monotonic() + wait
        while extract.status == "building" and time.monotonic() < deadline:
            self._sleep(poll)
            extract = self.get_extract(extract.id)
        return extract

    def list_extracts(self) -> list[Extract]:
        return self.call(api.list_extracts())

    def get_extract(self, extract_id: str) -> Extract:
        return self.call(api.get_extract(extract_id))

    def download_extract(self, extract_id: str, out: str | Path, *,
                         key_file: str | Path | None = None, unpack: bool = True,
                         keep_sealed: bool = False,
                         progress: Progress | None = None) -> ex.Downloaded:
        """Download the extract into ``out``, check its SHA-256 against the header and the
        metadata, decrypt it with ``key_file`` when it is sealed to you, and unpack it into
        ``out/<id>/`` (no member may land outside). Nothing unverified is kept. A sealed
        extract with ``keep_sealed`` and no ``key_file`` stays sealed (``<id>.flx`` and
        ``<id>.json``, opened later with :func:`fedlink_client.open_saved`)."""
        folder = Path(out).expanduser()
        extract = self.get_extract(extract_id)
        ex.check_key_given(extract, key_file, keep_sealed=keep_sealed)
        part, bundle = ex.part_paths(folder, extract.id)
        digest = hashlib.sha256()
        try:
            with self.stream("GET", api.download_path(extract.id)) as response, \
                    part.open("wb") as sink:
                announced = response.headers.get("X-Fedlink-SHA256", "")
                length = response.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else None
                for block in response.iter_bytes():
                    sink.write(block)
                    digest.update(block)
                    if progress is not None:
                        progress(len(block), total)
        except BaseException:
            part.unlink(missing_ok=True)
            raise
        return ex.finish(extract, part, bundle, received=digest.hexdigest(),
                         announced=announced, key_file=key_file,
                         unpack_to=folder / extract.id if unpack else None)

    def certify_destruction(self, extract_id: str, statement: str) -> Extract:
        return self.call(api.certify_destruction(extract_id, statement))

    def submit_output(self, **fields: Any) -> Output:
        return self.call(api.submit_output(**fields))

    def list_outputs(self) -> list[Output]:
        return self.call(api.list_outputs())

    def get_output(self, output_id: str) -> Output:
        return self.call(api.get_output(output_id))
