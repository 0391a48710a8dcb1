"""Response bodies of the public, health, governance and node routes (the rest:
:mod:`hub.api.schemas_views`, whose conventions these follow)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from hub.api.schemas_views import Date, Document, Time, View


# --- health ----------------------------------------------------------------------------
class HealthView(View):
    status: str = Field(examples=["ok"])


class ReadyView(View):
    """``ready``, or the 503 ``not_ready`` with ``error`` and ``detail`` as well."""

    status: str = Field(examples=["ready"])
    checks: dict[str, str] = Field(description="Each check (database, schema, keys): `ok` or "
                                   "what is wrong",
                                   examples=[{"database": "ok", "schema": "ok", "keys": "ok"}])


class HubKeysView(View):
    """The hub's public keys: nodes pin them at enrollment, auditors to check checkpoints."""

    signing_public_key: str = Field(description="Ed25519, raw, base64url")
    signing_kid: str
    hpke_public_key: str = Field(description="X25519, raw, base64url")
    hpke_kid: str


# --- public transparency -----------------------------------------------------------------
class PublicAgency(View):
    agency: str
    name: str
    variable_categories: list[str] = Field(description="Classifications of the variables "
                                           "asked")
    variables: int = Field(description="How many variables are asked")
    years: list[int] = Field(description="First and last year asked")


class ReleasedOutput(View):
    id: str
    name: str
    description: str
    kind: str
    sha256: str
    released_at: Date | None


class PublicProject(View):
    id: str
    title: str
    institution: str
    public_summary: str
    research_questions: list[str]
    status: str
    agencies: list[PublicAgency]
    term_start: str = Field(description="Approved term start (YYYY-MM-DD)")
    term_end: str = Field(description="Approved term end (YYYY-MM-DD)")
    approved_at: Date | None
    matching_authorised: bool
    released_outputs: list[ReleasedOutput] = Field(
        description="Output tables the agencies' stewards released "
                    "(`GET /v1/public/outputs/{output_id}`)")


class DeniedRequest(View):
    id: str
    title: str
    institution: str
    agencies: list[str]
    denied_by: str | None = Field(description="Who denied it (a category, never a name)")
    denied_at: Date | None


class ContactPerson(View):
    name: str
    title: str
    email: str


class Page(View):
    limit: int
    offset: int
    next_offset: int | None = Field(description="The next page's offset; null on the last")
    next: str | None = Field(description="The next page's path; null on the last")


class Statistics(View):
    requests_submitted: int
    by_status: dict[str, int]
    decisions: int
    median_days_to_decision: float | None


class PublicProjects(View):
    """Approved projects and denied IRB-approved requests (no personal data), a page at a
    time, and statistics over every submitted request."""

    hub: str
    contact: str
    contact_person: ContactPerson | None
    approved_projects: list[PublicProject]
    denied_irb_approved_requests: list[DeniedRequest]
    page: Page
    statistics: Statistics


class PublicVariable(View):
    variable: str
    description: str
    years: list[int]
    classification: str


class PublicAgencyCatalog(View):
    agency: str
    name: str
    updated_at: Time
    variables: list[PublicVariable]


class PublicCatalog(View):
    agencies: list[PublicAgencyCatalog]


# --- governance --------------------------------------------------------------------------
class KeyRegistered(View):
    kid: str = Field(description="Key id of the registered key")
    public_key: str


class RosterView(View):
    versions: list[list[Document]] = Field(
        description="Each roster version's signed statements, oldest first")
    current: Document | None = Field(description="The current roster (members, quorum)")
    fingerprint: str | None = Field(description="The current roster's fingerprint, which "
                                    "nodes pin (`fedlink node roster-sync`)")


class RosterAccepted(View):
    version: int
    digest: str
    quorum: int


class ProjectTermsView(View):
    project_terms: Document = Field(description="Every agency's terms digest and the term")
    project_digest: str = Field(description="What a governance decision signs")
    status: str


class RevocationAccepted(View):
    project_id: str
    kid: str = Field(description="The signing member's key id")
    pushed_to: list[str] = Field(description="Agencies whose nodes took the revocation")


class NodeGovernance(View):
    roster_updates: list[list[Document]]
    revocations: list[Document] = Field(description="Signed revocation envelopes")


# --- node-facing -------------------------------------------------------------------------
class NodePending(View):
    project_id: str
    title: str
    status: str


class AgencyTerms(View):
    """The terms an agency's steward approves; ``terms_digest`` is what the node signs."""

    project_id: str
    agency: str
    title: str
    public_summary: str
    research_questions: list[str]
    variables: list[str]
    years: list[int]
    cohort: Document
    term_start: Date
    term_end: Date
    matching_authorised: bool
    allowable_uses: list[str]
    personnel: list[Document]
    disposition: str
    extract: Document
    status: str
    terms_digest: str


class DictionaryAccepted(View):
    agency: str
    variables: int
    published_at: Time
    person_ids: str


class DecisionAccepted(View):
    project_id: str
    status: str


def ok(model: Any, description: str = "Successful Response") -> dict[int | str, Any]:
    """A ``responses=`` entry documenting the 200 as ``model`` without validating the
    answer (for routes whose answers are built for speed: the cached public page)."""
    return {200: {"model": model, "description": description}}
