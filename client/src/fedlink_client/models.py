"""Typed views of what the hub answers a researcher.

Every model ignores fields it does not know (``extra="ignore"``) and gives most fields a
default, so a newer hub that adds a field never breaks an older client; the hub's own
JSON is what these mirror (hub/services/*_view functions). Times are parsed into
:class:`datetime.datetime`; dates that the hub sends as ``YYYY-MM-DD`` stay strings.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class User(_Model):
    """An account (``GET /v1/me``)."""

    id: int
    name: str
    role: str
    email: str | None = None
    agency: str | None = None
    institution: str | None = None
    active: bool = True
    status: str = "active"
    created_at: datetime | None = None


class RedeemedAccount(User):
    """``POST /v1/invitations/redeem``: your account and first token (shown once)."""

    token: str
    token_id: int
    token_expires_at: datetime | None = None


class IssuedToken(_Model):
    """A new API token (shown once)."""

    id: int
    token: str
    expires_at: datetime | None = None


class TokenInfo(_Model):
    """A token's metadata (never its text)."""

    id: int
    label: str = ""
    created_at: datetime | None = None
    expires_at: datetime | None = None
    revoked_at: datetime | None = None


class CatalogVariable(_Model):
    """One variable of an agency's data dictionary (``GET /v1/catalog``)."""

    agency: str
    variable: str
    description: str = ""
    description_placeholder: bool = False
    type: str | None = None
    years: list[int] = Field(default_factory=list)
    classification: str | None = None
    quasi_identifier: bool = False
    completeness: list[dict[str, Any]] = Field(default_factory=list)
    codes: list[dict[str, Any]] = Field(default_factory=list)


class PublicVariable(_Model):
    variable: str
    description: str = ""
    years: list[int] = Field(default_factory=list)
    classification: str | None = None


class PublicAgencyCatalog(_Model):
    """What one agency offers, as anyone may see it (``GET /v1/public/catalog``)."""

    agency: str
    name: str = ""
    updated_at: datetime | None = None
    variables: list[PublicVariable] = Field(default_factory=list)


class RequestSummary(_Model):
    """A research request (its data sharing agreement) in a list."""

    id: str
    title: str = ""
    status: str
    agencies: list[str] = Field(default_factory=list)
    researcher_id: int | None = None
    round: int = 0
    created_at: datetime | None = None
    submitted_at: datetime | None = None
    decided_at: datetime | None = None


class Request(RequestSummary):
    """One request in full: the agreement, reviews, agency decisions, what it waits for."""

    researcher: dict[str, Any] = Field(default_factory=dict)
    agreement: dict[str, Any] = Field(default_factory=dict)
    needs_edit: bool = False
    decision_reason: str | None = None
    denial_category: str | None = None
    approved_term: dict[str, Any] | None = None
    reviews: list[dict[str, Any]] = Field(default_factory=list)
    agency_decisions: list[dict[str, Any]] = Field(default_factory=list)
    waiting_for: list[str] = Field(default_factory=list)
    next_refresh_due: datetime | None = None


class RefreshSchedule(_Model):
    """When a project's next scheduled refresh run is due, or why none is (``note``)."""

    project_id: str
    refresh_frequency: str
    last_refreshed_at: datetime | None = None
    next_refresh_due: datetime | None = None
    note: str | None = None


class AgreementVersion(_Model):
    """One version of a project's agreement (docs/amendments.md); ``agreement`` is set
    when the version is read on its own (``GET …/versions/{n}``)."""

    project_id: str
    version: int
    kind: str
    status: str
    reason: str = ""
    round: int = 0
    created_by: str = ""
    created_at: datetime | None = None
    decided_at: datetime | None = None
    decision_reason: str | None = None
    term_start: str | None = None
    term_end: str | None = None
    agreement: dict[str, Any] | None = None


class AgreementVersions(_Model):
    """A project's versions, the one in force and (while amending) the agencies asked."""

    project_id: str
    status: str
    in_force: int = 0
    agencies_asked: list[str] = Field(default_factory=list)
    versions: list[AgreementVersion] = Field(default_factory=list)


class AgreementChange(_Model):
    """One changed field of an agreement version (JSON path, before, after)."""

    path: str
    before: Any = None
    after: Any = None


class AgreementDiff(_Model):
    """What a version changed against the version in force it was proposed against."""

    project_id: str
    version: int
    against: int | None = None
    changes: list[AgreementChange] = Field(default_factory=list)


class Run(_Model):
    """A linkage run of a project."""

    id: str
    project_id: str
    status: str
    attempt: int = 0
    agencies: list[str] = Field(default_factory=list)
    requested_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    seconds: float | None = None
    steps: list[Any] = Field(default_factory=list)
    counts: dict[str, Any] = Field(default_factory=dict)
    failure: dict[str, Any] | None = None
    report: dict[str, Any] | None = None


class SealedKey(_Model):
    """The extract's data key sealed (HPKE) to the researcher's X25519 key."""

    suite: str
    kid: str
    info: dict[str, str]
    ciphertext: str


class Extract(_Model):
    """A linked extract's metadata (never its data)."""

    id: str
    project_id: str
    status: str
    run_id: str | None = None
    created_at: datetime | None = None
    finished_at: datetime | None = None
    expires_at: datetime | None = None
    formats: list[str] = Field(default_factory=list)
    include_unmatched: bool = False
    variables: dict[str, Any] | None = None
    tables: dict[str, Any] | None = None
    persons: int | None = None
    sha256: str | None = None
    ciphertext_sha256: str | None = None
    size_bytes: int | None = None
    encryption: str = "hub"
    recipient_key: SealedKey | None = None
    disclosure: dict[str, Any] | None = None
    failure: dict[str, Any] | None = None
    destroyed_at: datetime | None = None
    destroyed_reason: str | None = None

    @property
    def sealed(self) -> bool:
        """True when the download is ciphertext sealed to the researcher's key."""
        return self.encryption == "researcher"


class Output(_Model):
    """An output table submitted to the airlock."""

    id: str
    project_id: str
    name: str = ""
    description: str = ""
    kind: str = ""
    sha256: str | None = None
    status: str
    checks: Any = None
    created_at: datetime | None = None
    decided_at: datetime | None = None
    content: str | None = None


class ReportComment(_Model):
    """A comment or objection on a report (docs/findings.md): its author's role and agency,
    never a name."""

    id: int
    kind: str = "comment"
    author_role: str = ""
    agency: str | None = None
    text: str = ""
    created_at: datetime | None = None
    status: str | None = None
    override_reason: str | None = None

    @property
    def standing(self) -> bool:
        """True for an objection neither withdrawn nor overridden: it blocks the release."""
        return self.kind == "objection" and self.status == "standing"


class Report(_Model):
    """A report uploaded to a project (docs/findings.md): shared with the stewards of the
    project's agencies at once, public only once released after the review window.
    ``comments`` is set when the report is read on its own."""

    id: str
    project_id: str
    deliverable: str | None = None
    title: str = ""
    kind: str = ""
    filename: str
    content_type: str = ""
    size_bytes: int = 0
    sha256: str
    status: str
    created_at: datetime | None = None
    review_days: int = 0
    review_ends_at: datetime | None = None
    window_open: bool = False
    standing_objections: int = 0
    releasable: bool = False
    released_at: datetime | None = None
    comments: list[ReportComment] | None = None


class Deliverable(_Model):
    """One of the agreement's deliverables: ``due`` (YYYY-MM-DD) and ``status``
    (``released``, ``in_review``, ``overdue`` or ``due``)."""

    title: str
    kind: str = ""
    due: str
    status: str
    reports: list[str] = Field(default_factory=list)


class Publication(_Model):
    """An entry of the public publications register (``project_title`` in the register)."""

    id: str
    project_id: str
    project_title: str | None = None
    report_id: str | None = None
    citation: str = ""
    url: str | None = None
    doi: str | None = None
    published_on: str


class ReleasedFinding(_Model):
    """A released report on a project's public entry (``GET /v1/public/findings/{id}``)."""

    id: str
    title: str = ""
    kind: str = ""
    deliverable: str | None = None
    content_type: str = ""
    size_bytes: int = 0
    sha256: str = ""
    released_at: str | None = None


class PublicProject(_Model):
    """An approved project on the hub's public list."""

    id: str
    title: str = ""
    institution: str = ""
    public_summary: str = ""
    research_questions: list[str] = Field(default_factory=list)
    status: str = ""
    agencies: list[dict[str, Any]] = Field(default_factory=list)
    term_start: str | None = None
    term_end: str | None = None
    approved_at: str | None = None
    matching_authorised: bool | None = None
    released_outputs: list[dict[str, Any]] = Field(default_factory=list)
    released_findings: list[ReleasedFinding] = Field(default_factory=list)
    publications: list[Publication] = Field(default_factory=list)


class AuditEvent(_Model):
    """One event of the hub's audit chain (auditors)."""

    seq: int
    ts: Any = None
    actor: str | None = None
    role: str | None = None
    action: str
    object_type: str | None = None
    object_id: str | None = None
    project: str | None = None
    agency: str | None = None
    outcome: str | None = None
    source: str | None = None
    detail: Any = None
    prev_hash: str | None = None
    hash: str | None = None
