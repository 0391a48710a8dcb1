"""The hub's researcher endpoints as data: each function returns a :class:`Call` (method,
path, query, body, and how to read the answer), which :class:`~fedlink_client.Client` and
:class:`~fedlink_client.AsyncClient` each send their own way. One definition per endpoint,
so the two clients cannot drift apart."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Generic, TypeVar
from urllib.parse import quote

from pydantic import TypeAdapter

from fedlink_client.errors import InvalidInput
from fedlink_client.findings import ReportFile, report_file
from fedlink_client.models import (
    AgreementDiff,
    AgreementVersion,
    AgreementVersions,
    CatalogVariable,
    Deliverable,
    Extract,
    IssuedToken,
    Output,
    PublicAgencyCatalog,
    Publication,
    RedeemedAccount,
    RefreshSchedule,
    Report,
    ReportComment,
    Request,
    RequestSummary,
    Run,
    TokenInfo,
    User,
)

T = TypeVar("T")


@dataclass(frozen=True)
class Call(Generic[T]):
    method: str
    path: str
    parse: Callable[[Any], T]
    params: dict[str, Any] | None = None
    json: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


def q(value: str) -> str:
    """A path segment, escaped (ids never travel unescaped into a URL)."""
    return quote(str(value), safe="")


def _one(model: type[T]) -> Callable[[Any], T]:
    adapter = TypeAdapter(model)
    return adapter.validate_python


def _many(model: type[T]) -> Callable[[Any], list[T]]:
    adapter = TypeAdapter(list[model])  # type: ignore[valid-type]
    return adapter.validate_python


def _raw(value: Any) -> Any:
    return value


def load_agreement(agreement: Mapping[str, Any] | str | Path,
                   recipient_key: str | None = None) -> dict[str, Any]:
    """The agreement as a dict: ``agreement`` itself, or the JSON file it names;
    ``recipient_key`` (from :func:`~fedlink_client.generate_key`) becomes its
    ``extract.recipient_public_key``, so the extract is sealed to you."""
    if isinstance(agreement, (str, Path)):
        path = Path(agreement).expanduser()
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise InvalidInput(f"cannot read the agreement {path}: {exc.strerror}") from None
        except ValueError as exc:
            raise InvalidInput(f"the agreement {path} is not JSON: {exc}") from None
        if not isinstance(body, dict):
            raise InvalidInput(f"the agreement {path} must be a JSON object")
    else:
        body = dict(agreement)
    if recipient_key:
        body["extract"] = {**dict(body.get("extract") or {}),
                           "recipient_public_key": recipient_key}
    return body


# --- identity -------------------------------------------------------------------------

def health() -> Call[dict[str, Any]]:
    return Call("GET", "/health", dict)


def me() -> Call[User]:
    return Call("GET", "/v1/me", _one(User))


def redeem_invitation(code: str, label: str = "") -> Call[RedeemedAccount]:
    return Call("POST", "/v1/invitations/redeem", _one(RedeemedAccount),
                json={"code": code, "label": label})


def issue_token(label: str = "", ttl_days: int | None = None) -> Call[IssuedToken]:
    body: dict[str, Any] = {"label": label}
    if ttl_days is not None:
        body["ttl_days"] = ttl_days
    return Call("POST", "/v1/me/tokens", _one(IssuedToken), json=body)


def my_tokens() -> Call[list[TokenInfo]]:
    return Call("GET", "/v1/me/tokens", _many(TokenInfo))


def revoke_my_token(token_id: int) -> Call[TokenInfo]:
    return Call("DELETE", f"/v1/me/tokens/{int(token_id)}", _one(TokenInfo))


# --- catalog --------------------------------------------------------------------------

def catalog(agency: str | None = None) -> Call[list[CatalogVariable]]:
    return Call("GET", "/v1/catalog", _many(CatalogVariable),
                params={"agency": agency} if agency else None)


def public_catalog() -> Call[list[PublicAgencyCatalog]]:
    def parse(body: Any) -> list[PublicAgencyCatalog]:
        return _many(PublicAgencyCatalog)(body["agencies"])
    return Call("GET", "/v1/public/catalog", parse)


def public_projects_page(limit: int, offset: int) -> Call[dict[str, Any]]:
    return Call("GET", "/v1/public/projects", dict, params={"limit": limit, "offset": offset})


def audit_page(after_seq: int, limit: int, filters: Mapping[str, Any]) -> Call[dict[str, Any]]:
    params = {k: v for k, v in filters.items() if v}
    params.update(after_seq=after_seq, limit=limit, format="json")
    return Call("GET", "/v1/audit/events", dict, params=params)


# --- requests and runs ----------------------------------------------------------------

def create_request(agreement: Mapping[str, Any] | str | Path,
                   recipient_key: str | None = None) -> Call[Request]:
    return Call("POST", "/v1/requests", _one(Request),
                json=load_agreement(agreement, recipient_key))


def list_requests(status: str | None = None) -> Call[list[RequestSummary]]:
    return Call("GET", "/v1/requests", _many(RequestSummary),
                params={"status": status} if status else None)


def get_request(request_id: str) -> Call[Request]:
    return Call("GET", f"/v1/requests/{q(request_id)}", _one(Request))


def edit_request(request_id: str, changes: Mapping[str, Any]) -> Call[Request]:
    return Call("PATCH", f"/v1/requests/{q(request_id)}", _one(Request), json=dict(changes))


def submit_request(request_id: str) -> Call[Request]:
    return Call("POST", f"/v1/requests/{q(request_id)}/submit", _one(Request))


def withdraw_request(request_id: str, reason: str = "") -> Call[Request]:
    return Call("POST", f"/v1/requests/{q(request_id)}/withdraw", _one(Request),
                json={"reason": reason})


def list_runs(request_id: str) -> Call[list[Run]]:
    return Call("GET", f"/v1/requests/{q(request_id)}/runs", _many(Run))


def get_run(request_id: str, run_id: str) -> Call[Run]:
    return Call("GET", f"/v1/requests/{q(request_id)}/runs/{q(run_id)}", _one(Run))


def refresh_schedule(request_id: str) -> Call[RefreshSchedule]:
    return Call("GET", f"/v1/requests/{q(request_id)}/refresh", _one(RefreshSchedule))


def propose_amendment(request_id: str, agreement: Mapping[str, Any] | str | Path, *,
                      kind: str, reason: str) -> Call[AgreementVersion]:
    return Call("POST", f"/v1/requests/{q(request_id)}/amendments", _one(AgreementVersion),
                json={"kind": kind, "reason": reason,
                      "agreement": load_agreement(agreement)})


def withdraw_amendment(request_id: str, reason: str = "") -> Call[AgreementVersion]:
    return Call("POST", f"/v1/requests/{q(request_id)}/amendments/withdraw",
                _one(AgreementVersion), json={"reason": reason})


def agreement_versions(request_id: str) -> Call[AgreementVersions]:
    return Call("GET", f"/v1/requests/{q(request_id)}/versions", _one(AgreementVersions))


def agreement_version(request_id: str, version: int) -> Call[AgreementVersion]:
    return Call("GET", f"/v1/requests/{q(request_id)}/versions/{int(version)}",
                _one(AgreementVersion))


def agreement_diff(request_id: str, version: int) -> Call[AgreementDiff]:
    return Call("GET", f"/v1/requests/{q(request_id)}/versions/{int(version)}/diff",
                _one(AgreementDiff))


# --- extracts and outputs -------------------------------------------------------------

def start_extract(project_id: str, run_id: str | None = None,
                  variables: Mapping[str, list[str]] | None = None) -> Call[Extract]:
    body: dict[str, Any] = {"project_id": project_id}
    if run_id:
        body["run_id"] = run_id
    if variables is not None:
        body["variables"] = dict(variables)
    return Call("POST", "/v1/extracts", _one(Extract), json=body)


def list_extracts() -> Call[list[Extract]]:
    return Call("GET", "/v1/extracts", _many(Extract))


def get_extract(extract_id: str) -> Call[Extract]:
    return Call("GET", f"/v1/extracts/{q(extract_id)}", _one(Extract))


def download_path(extract_id: str) -> str:
    return f"/v1/extracts/{q(extract_id)}/download"


def certify_destruction(extract_id: str, statement: str) -> Call[Extract]:
    return Call("POST", f"/v1/extracts/{q(extract_id)}/certify-destruction", _one(Extract),
                json={"statement": statement})


def submit_output(**fields: Any) -> Call[Output]:
    return Call("POST", "/v1/outputs", _one(Output), json=fields)


def list_outputs() -> Call[list[Output]]:
    return Call("GET", "/v1/outputs", _many(Output))


def get_output(output_id: str) -> Call[Output]:
    return Call("GET", f"/v1/outputs/{q(output_id)}", _one(Output))


# --- findings back to agencies (docs/findings.md) --------------------------------------

def upload_report(project_id: str, report: str | Path | bytes | ReportFile, *, title: str,
                  kind: str = "interim", deliverable: str | None = None,
                  filename: str | None = None) -> Call[Report]:
    file = report if isinstance(report, ReportFile) else report_file(report,
                                                                      filename=filename)
    body: dict[str, Any] = {"project_id": project_id, "title": title, "kind": kind,
                            **file.body()}
    if deliverable:
        body["deliverable"] = deliverable
    return Call("POST", "/v1/findings", _one(Report), json=body)


def list_reports(project_id: str | None = None) -> Call[list[Report]]:
    return Call("GET", "/v1/findings", _many(Report),
                params={"project_id": project_id} if project_id else None)


def get_report(report_id: str) -> Call[Report]:
    return Call("GET", f"/v1/findings/{q(report_id)}", _one(Report))


def report_file_path(report_id: str) -> str:
    return f"/v1/findings/{q(report_id)}/file"


def comment_report(report_id: str, text: str, kind: str = "comment") -> Call[ReportComment]:
    return Call("POST", f"/v1/findings/{q(report_id)}/comments", _one(ReportComment),
                json={"kind": kind, "text": text})


def withdraw_objection(report_id: str, comment_id: int) -> Call[ReportComment]:
    return Call("POST", f"/v1/findings/{q(report_id)}/comments/{int(comment_id)}/withdraw",
                _one(ReportComment))


def override_objection(report_id: str, comment_id: int, reason: str) -> Call[ReportComment]:
    return Call("POST", f"/v1/findings/{q(report_id)}/comments/{int(comment_id)}/override",
                _one(ReportComment), json={"reason": reason})


def release_report(report_id: str) -> Call[Report]:
    return Call("POST", f"/v1/findings/{q(report_id)}/release", _one(Report))


def deliverables(project_id: str) -> Call[list[Deliverable]]:
    return Call("GET", f"/v1/projects/{q(project_id)}/deliverables", _many(Deliverable))


def add_publication(project_id: str, citation: str, published_on: date | str, *,
                    url: str | None = None, doi: str | None = None,
                    report_id: str | None = None) -> Call[Publication]:
    body: dict[str, Any] = {"project_id": project_id, "citation": citation,
                            "published_on": str(published_on)}
    body.update({k: v for k, v in (("url", url), ("doi", doi), ("report_id", report_id))
                 if v is not None})
    return Call("POST", "/v1/publications", _one(Publication), json=body)


def publications() -> Call[list[Publication]]:
    return Call("GET", "/v1/public/publications", _many(Publication))


def raw(method: str, path: str, *, params: dict[str, Any] | None = None,
        json: Any = None, **extra: Any) -> Call[Any]:
    """Any endpoint, its JSON answer as it is (for callers with their own models)."""
    return Call(method, path, _raw, params=params, json=json, extra=extra)
