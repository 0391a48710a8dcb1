"""Response bodies of the public, health, governance and node routes (the rest:
:mod:`hub.api.schemas_views`, whose conventions these follow)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from hub.api.schemas_findings import PublicationView, ReleasedFinding
from hub.api.schemas_views import Date, Document, Time, View


# --- health ----------------------------------------------------------------------------
class HealthView(View):
    status: str = Field(description="Always `ok`: the process answers (readiness: "
                        "`GET /ready`)", examples=["ok"])


class ReadyView(View):
    """``ready``, or the 503 ``not_ready`` with ``error`` and ``detail`` as well."""

    status: str = Field(description="`ready` (the 503 answer says `not_ready`)",
                        examples=["ready"])
    checks: dict[str, str] = Field(description="Each check (database, schema, keys): `ok` or "
                                   "what is wrong",
                                   examples=[{"database": "ok", "schema": "ok", "keys": "ok"}])


class HubKeysView(View):
    """The hub's public keys: nodes pin them at enrollment, auditors to check checkpoints."""

    signing_public_key: str = Field(description="Ed25519, raw, base64url")
    signing_kid: str = Field(description="Key id of the signing key: `ed25519:` and 32 hex "
                             "digits", examples=["ed25519:4f1c2a9e0b7d3c5a8e6f1029384756ab"])
    hpke_public_key: str = Field(description="X25519, raw, base64url")
    hpke_kid: str = Field(description="Key id of the HPKE key: `x25519:` and 32 hex digits",
                          examples=["x25519:9a8b7c6d5e4f30211203f4e5d6c7b8a9"])


# --- public transparency -----------------------------------------------------------------
class PublicAgency(View):
    agency: str = Field(description="The agency's code", examples=["K12"])
    name: str = Field(description="The agency's full name",
                      examples=["Department of Education"])
    variable_categories: list[str] = Field(description="Classifications of the variables "
                                           "asked")
    variables: int = Field(description="How many variables are asked")
    years: list[int] = Field(description="First and last year asked")


class ReleasedOutput(View):
    id: str = Field(description="The output's id", examples=["out-5c2e9a0b1d7f"])
    name: str = Field(description="The researcher's name for the table",
                      examples=["Enrolment by third-grade score band"])
    description: str = Field(description="The researcher's description (may be empty)")
    kind: str = Field(description="`frequency` (counts), `means` or `records`",
                      examples=["frequency"])
    sha256: str = Field(description="SHA-256 (hex) of the released CSV text: check a copy "
                        "against it")
    released_at: Date | None = Field(description="The day it was released (YYYY-MM-DD)",
                                     examples=["2027-03-15"])


class AgendaLink(View):
    """A priority question of the research agenda a project answers."""

    id: int = Field(description="The agenda item's id", examples=[1])
    question: str = Field(description="The priority question")


class PublicProject(View):
    id: str = Field(description="The project (request) id", examples=["prj-0e14fc18607c"])
    title: str = Field(description="The agreement's title",
                       examples=["Early grades and college enrolment"])
    institution: str = Field(description="The research institution",
                             examples=["State University"])
    public_summary: str = Field(description="The agreement's plain-language summary")
    research_questions: list[str] = Field(description="The questions the data will answer")
    status: str = Field(description="approved, linking, ready, revoked or expired",
                        examples=["ready"])
    agencies: list[PublicAgency] = Field(description="What each agency provides")
    term_start: str = Field(description="Approved term start (YYYY-MM-DD)")
    term_end: str = Field(description="Approved term end (YYYY-MM-DD)")
    approved_at: Date | None = Field(description="The day it was approved (YYYY-MM-DD)",
                                     examples=["2026-02-10"])
    matching_authorised: bool = Field(description="The agencies authorised linking their "
                                      "records")
    released_outputs: list[ReleasedOutput] = Field(
        description="Output tables the agencies' stewards released "
                    "(`GET /v1/public/outputs/{output_id}`)")
    released_findings: list[ReleasedFinding] = Field(
        description="Reports released after the agencies' review window "
                    "(`GET /v1/public/findings/{report_id}`)")
    publications: list[PublicationView] = Field(
        description="The project's entries in the publications register")
    agenda_items: list[AgendaLink] = Field(
        default_factory=list, description="The research agenda's priority questions the "
        "project answers (`GET /v1/public/agenda`)")
    pre_analysis_plan: str | None = Field(
        default=None, description="The project's pre-analysis plan, when its agreement "
        "publishes it (null: none, or not published)")


class DeniedRequest(View):
    id: str = Field(description="The request id", examples=["prj-7d21be90a4c3"])
    title: str = Field(description="The agreement's title")
    institution: str = Field(description="The research institution",
                             examples=["State University"])
    agencies: list[str] = Field(description="Codes of the agencies asked",
                                examples=[["K12", "HIGHERED"]])
    denied_by: str | None = Field(description="Who denied it (a category, never a name): "
                                  "`agency` or `governance`", examples=["governance"])
    denied_at: Date | None = Field(description="The day it was denied (YYYY-MM-DD)",
                                   examples=["2026-03-02"])
    public_reason: str | None = Field(description=(
        "The denial's reason written for the public (the internal reason is never "
        "published); null for a denial from before public reasons were recorded"))


class ContactPerson(View):
    name: str = Field(description="The hub's public contact (the operator's setting)",
                      examples=["Sam Steward"])
    title: str = Field(description="Their position", examples=["Data governance officer"])
    email: str = Field(description="Where the public may write",
                       examples=["data-governance@state.example"])


class Page(View):
    limit: int = Field(description="Most entries on this page (the `limit` asked)",
                       examples=[50])
    offset: int = Field(description="Entries skipped before this page", examples=[0])
    next_offset: int | None = Field(description="The next page's offset; null on the last")
    next: str | None = Field(description="The next page's path; null on the last")


class Statistics(View):
    requests_submitted: int = Field(description="Requests ever submitted (drafts not "
                                    "counted)", examples=[42])
    by_status: dict[str, int] = Field(description="Submitted requests by current status",
                                      examples=[{"approved": 3, "denied": 2, "ready": 5}])
    decisions: int = Field(description="Requests approved or denied so far", examples=[10])
    median_days_to_decision: float | None = Field(
        description="Median days from first submission to decision, one decimal; null "
                    "before any decision", examples=[23.5])


class PublicProjects(View):
    """Approved projects and denied requests with their public reasons (no personal data),
    a page at a time, and statistics over every submitted request."""

    hub: str = Field(description="The hub's name (the operator's setting)",
                     examples=["State Education Data Hub"])
    contact: str = Field(description="Whom the public may contact about the hub (the "
                         "operator's setting)", examples=["the data governance office"])
    contact_person: ContactPerson | None = Field(description="A named contact, if the "
                                                 "operator set one")
    approved_projects: list[PublicProject] = Field(description="Approved projects on this "
                                                   "page, oldest first")
    denied_requests: list[DeniedRequest] = Field(description="Denied requests on this "
                                                 "page, with their public reasons")
    page: Page = Field(description="Where this page is and how to get the next")
    statistics: Statistics = Field(description="Over every submitted request, not just "
                                   "this page")


class PublicVariable(View):
    variable: str = Field(description="The variable's name", examples=["test_score"])
    description: str = Field(description="What it holds, as the steward wrote it")
    years: list[int] = Field(description="Years the agency holds it for",
                             examples=[[2018, 2019, 2020]])
    classification: str = Field(description="`public`, `internal`, `confidential` or "
                                "`restricted`", examples=["confidential"])


class PublicAgencyCatalog(View):
    agency: str = Field(description="The agency's code", examples=["K12"])
    name: str = Field(description="The agency's full name",
                      examples=["Department of Education"])
    updated_at: Time
    variables: list[PublicVariable] = Field(description="Its node's published variables")


class PublicCatalog(View):
    agencies: list[PublicAgencyCatalog] = Field(description="Every enrolled agency's "
                                                "catalog")


# --- governance --------------------------------------------------------------------------
class KeyRegistered(View):
    kid: str = Field(description="Key id of the registered key",
                     examples=["ed25519:4f1c2a9e0b7d3c5a8e6f1029384756ab"])
    public_key: str = Field(description="The registered Ed25519 public key (raw, base64url)")


class RosterView(View):
    versions: list[list[Document]] = Field(
        description="Each roster version's signed statements, oldest first")
    current: Document | None = Field(description="The current roster (members, quorum)")
    fingerprint: str | None = Field(description="The current roster's fingerprint, which "
                                    "nodes pin (`fedlink node roster-sync`)")


class RosterAccepted(View):
    version: int = Field(description="The new roster version (1 for the first)",
                         examples=[2])
    digest: str = Field(description="SHA-256 (hex) of the accepted roster")
    quorum: int = Field(description="Members' signatures a governance decision now needs",
                        examples=[2])


class ProjectTermsView(View):
    project_terms: Document = Field(description="Every agency's terms digest and the term")
    project_digest: str = Field(description="What a governance decision signs")
    status: str = Field(description="The request's status", examples=["in_review"])


class RevocationAccepted(View):
    project_id: str = Field(description="The revoked project", examples=["prj-0e14fc18607c"])
    kid: str = Field(description="The signing member's key id")
    pushed_to: list[str] = Field(description="Agencies whose nodes took the revocation")


class NodeGovernance(View):
    roster_updates: list[list[Document]] = Field(
        description="Roster versions the node has not seen, each as its signed statements")
    revocations: list[Document] = Field(description="Signed revocation envelopes")


# --- node-facing -------------------------------------------------------------------------
class NodePending(View):
    project_id: str = Field(description="A request waiting for this agency's decision",
                            examples=["prj-0e14fc18607c"])
    title: str = Field(description="The agreement's title")
    status: str = Field(description="The request's status", examples=["in_review"])


class AgencyTerms(View):
    """The terms an agency's steward approves; ``terms_digest`` is what the node signs."""

    project_id: str = Field(description="The request (project) id",
                            examples=["prj-0e14fc18607c"])
    agency: str = Field(description="The agency these terms are for", examples=["K12"])
    title: str = Field(description="The agreement's title")
    public_summary: str = Field(description="The agreement's plain-language summary")
    research_questions: list[str] = Field(description="The questions the data will answer")
    variables: list[str] = Field(description="Variables asked of this agency",
                                 examples=[["grade", "test_score"]])
    years: list[int] = Field(description="Every year asked, inclusive",
                             examples=[[2018, 2019, 2020]])
    cohort: Document = Field(description="Which records are covered (`conditions`; none: "
                             "every record in the years)")
    term_start: Date = Field(description="First day of the term (YYYY-MM-DD)",
                             examples=["2026-01-01"])
    term_end: Date = Field(description="Last day of the term (YYYY-MM-DD)",
                           examples=["2027-12-31"])
    matching_authorised: bool = Field(description="Linking the agency's records is "
                                      "authorised")
    allowable_uses: list[str] = Field(description="The only uses the data may be put to")
    personnel: list[Document] = Field(description="Everyone with access (name, role, "
                                      "institution, email)")
    disposition: str = Field(description="`destroy` at the end of the term (`return` only "
                             "in agreements stored before it was refused; destroyed too)",
                             examples=["destroy"])
    extract: Document = Field(description="Extract options that bear on disclosure "
                              "(include_unmatched, k_anonymity, quasi_identifier_policy)")
    status: str = Field(description="The request's status", examples=["in_review"])
    terms_digest: str = Field(description="SHA-256 (hex) of these terms in canonical JSON: "
                              "what the steward's decision signs")


class DictionaryAccepted(View):
    agency: str = Field(description="The agency whose catalog was replaced", examples=["K12"])
    variables: int = Field(description="Variables in the accepted dictionary", examples=[24])
    published_at: Time
    person_ids: str = Field(description="The agency's declaration: `unique` or "
                            "`may_duplicate`", examples=["unique"])


class DecisionAccepted(View):
    project_id: str = Field(description="The request decided on",
                            examples=["prj-0e14fc18607c"])
    status: str = Field(description="The request's status after the decision",
                        examples=["approved"])


def ok(model: Any, description: str = "Successful Response") -> dict[int | str, Any]:
    """A ``responses=`` entry documenting the 200 as ``model`` without validating the
    answer (for routes whose answers are built for speed: the cached public page)."""
    return {200: {"model": model, "description": description}}
