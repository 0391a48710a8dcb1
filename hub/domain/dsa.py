"""The data sharing agreement (DSA) a research request carries.

The fields are the ones agencies ask for (the Data Quality Campaign checklist): purpose, public
summary, scope and deliverables, allowable uses, variables per agency with years, cohort,
personnel with access, agency points of contact, security plan, term and renewal, refresh
frequency, matching authorisation, disposition at the end, interim findings plan, IRB.
Unknown fields are refused. Checks that need the catalog (agencies and variables exist)
live in :mod:`hub.services.requests`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from protocol.wire import Cohort
from protocol.wire_types import (
    AgencyCode,
    VariableName,
    WireDate,
    X25519Key,
    Year,
    check_years,
)

Short = Annotated[str, Field(min_length=1, max_length=300)]
Long = Annotated[str, Field(min_length=1, max_length=10_000)]
#: Deliberately simple: one @, no spaces; deliverability is not the hub's business.
Email = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=320)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AgencyVariables(_Model):
    """The variables and inclusive range of years asked of one agency, and its cohort."""

    agency: AgencyCode = Field(description="The agency's code, as in `GET /v1/catalog`",
                               examples=["K12"])
    variables: list[VariableName] = Field(
        min_length=1, max_length=500,
        description="Variables of that agency's catalog, each once; never an identifier "
                    "(names, birth dates, ids…: refused with `identifier_variable`)",
        examples=[["grade", "test_score"]])
    first_year: Year = Field(description="First year asked (inclusive); every variable must "
                             "cover every year from first_year to last_year", examples=[2018])
    last_year: Year = Field(description="Last year asked (inclusive), not before first_year",
                            examples=[2020])
    cohort: Cohort = Field(
        default_factory=Cohort,
        description="Which of the agency's records are covered: those meeting every "
                    "condition (`equals`, `in`, `range` on catalog variables); none means "
                    "every record in the years")

    @model_validator(mode="after")
    def _checks(self) -> AgencyVariables:
        check_years(self.first_year, self.last_year)
        if len(set(self.variables)) != len(self.variables):
            raise ValueError(f"variables of agency {self.agency} repeat a name")
        return self

    @property
    def years(self) -> list[int]:
        return list(range(self.first_year, self.last_year + 1))


class Person(_Model):
    """Someone on the project team who will have access to the extract."""

    name: Short = Field(description="Full name", examples=["Dr Ada Researcher"])
    role: Short = Field(description="Role on the project", examples=["Principal investigator"])
    institution: Short = Field(description="Their institution (may differ from the "
                               "project's)", examples=["State University"])
    email: Email | None = Field(
        default=None,
        description="The email of their hub account: only listed emails may download the "
                    "extract or submit outputs (the request's owner always may)",
        examples=["ada@uni.example"])


class AgencyContact(_Model):
    """A point of contact at one of the agencies whose data is asked."""

    agency: AgencyCode = Field(description="One of the agencies in `variables`",
                               examples=["K12"])
    name: Short = Field(description="The contact's full name", examples=["Kay Twelve"])
    email: Email = Field(description="The contact's email at the agency",
                         examples=["kay@k12.example"])


class Renewal(_Model):
    """Whether and how the term may be renewed."""

    renewable: StrictBool = Field(default=False, description="The term may be renewed "
                                  "(as `conditions` says)", examples=[False])
    conditions: Annotated[str, Field(max_length=2000)] = Field(
        default="", description="When and how a renewal may be asked",
        examples=["One renewal of up to a year, on a written request before term_end."])


class Deliverable(_Model):
    """One thing the project owes the agencies, by a date (docs/findings.md): reports are
    uploaded against it by its title."""

    title: Short = Field(description="What is delivered; unique within the agreement (reports "
                         "name it)", examples=["Interim report to the agencies"])
    kind: Literal["interim", "final", "other"] = Field(
        description="`interim` (an interim report), `final` (the final paper) or `other`",
        examples=["interim"])
    due: WireDate = Field(description="YYYY-MM-DD: overdue after this day with no report",
                          examples=["2026-09-30"])


class Irb(_Model):
    """The Institutional Review Board's decision. `approved` and `exempt` need `board`,
    `protocol_number` and `approval_date`."""

    status: Literal["approved", "exempt", "pending", "not_required"] = Field(
        description="The board's decision: `approved`, `exempt`, `pending` or `not_required`",
        examples=["approved"])
    board: Annotated[str, Field(max_length=300)] = Field(
        default="", description="Required when status is approved or exempt",
        examples=["State University IRB"])
    protocol_number: Annotated[str, Field(max_length=100)] = Field(
        default="", description="Required when status is approved or exempt",
        examples=["IRB-2025-042"])
    approval_date: WireDate | None = Field(
        default=None, description="YYYY-MM-DD; required when status is approved or exempt",
        examples=["2025-06-01"])

    @model_validator(mode="after")
    def _approved_is_complete(self) -> Irb:
        if self.status in ("approved", "exempt"):
            missing = [
                name
                for name in ("board", "protocol_number", "approval_date")
                if not getattr(self, name)
            ]
            if missing:
                raise ValueError(f"an IRB status of {self.status!r} needs {', '.join(missing)}")
        return self


class PreAnalysisPlan(_Model):
    """The analysis the researchers commit to before they see the data
    (docs/governance-policy.md). Published on the public page once the project is
    approved, and only when ``publish`` is true."""

    text: Long = Field(description="The planned analyses, hypotheses and outcomes",
                       examples=["Logistic regression of enrolment on grade-3 scores, "
                                 "controlling for school; primary outcome: enrolment by 19."])
    publish: StrictBool = Field(default=False, description="Publish the plan on the public "
                                "page and `GET /v1/public/projects` once approved (never "
                                "before)", examples=[True])


#: Who asks (docs/governance-policy.md, "Requester types"); each type has its own rules.
RequesterType = Literal["researcher", "agency_staff", "vendor"]

ExtractFormat = Literal["parquet", "csv"]

#: Record-level files an agreement may authorise (docs/public-use-files.md).
FileType = Literal["restricted_use", "public_use"]


class ExtractOptions(_Model):
    """How the linked extract is prepared and protected (docs/extracts.md).

    ``include_unmatched``: also release people found in one agency only (default: only
    people linked across at least two agencies). ``k_anonymity``: the k checked on declared
    quasi-identifiers (``None``: the hub's ``disclosure_k``, default 5).
    ``quasi_identifier_policy``: what happens to classes smaller than k — ``generalise``
    (then suppress what is left), ``suppress``, or ``block`` the release for the stewards.
    ``recipient_public_key``: the researcher's X25519 public key (raw, base64url); when
    given, the extract key is also sealed to it (HPKE) and downloads are the ciphertext.
    """

    include_unmatched: StrictBool = Field(
        default=False, description="Also release people found in one agency only")
    formats: list[ExtractFormat] = Field(default_factory=lambda: list[ExtractFormat](
        ["parquet"]), min_length=1, max_length=2,
        description="Table formats of the bundle, each once", examples=[["parquet", "csv"]])
    k_anonymity: Annotated[int, Field(ge=2, le=100)] | None = Field(
        default=None, description="k checked on declared quasi-identifiers (null: the "
                                  "hub's disclosure_k, default 5)", examples=[5])
    quasi_identifier_policy: Literal["generalise", "suppress", "block"] = Field(
        default="generalise", description="What happens to classes smaller than k")
    recipient_public_key: X25519Key | None = Field(
        default=None, description="Your X25519 public key (32 bytes, base64url, no padding): "
                                  "the extract is then sealed to it and only you can open it")

    @model_validator(mode="after")
    def _distinct_formats(self) -> ExtractOptions:
        if len(set(self.formats)) != len(self.formats):
            raise ValueError("extract.formats repeats a format")
        return self


class OutputPolicy(_Model):
    """How the project's tables are protected before they leave through the airlock
    (docs/safe-outputs.md, ``POST /v1/projects/{id}/safe-tables``). Each field left null
    takes the hub's value; a set field may only be stricter than the hub's floor (422
    ``output_policy_below_floor`` otherwise)."""

    min_cell: Annotated[int, Field(ge=2, le=1000)] | None = Field(
        default=None, description="Counts from 1 up to min_cell - 1 are suppressed (null: "
        "the hub's `disclosure_min_cell`, default 10); never below the hub's",
        examples=[20])
    rounding_base: Annotated[int, Field(ge=1, le=1000)] | None = Field(
        default=None, description="Published counts and totals are rounded to a multiple "
        "of this (1: not rounded; null: the hub's `safe_output_rounding_base`, default 1); "
        "a multiple of the hub's", examples=[5])
    suppress_zeros: StrictBool | None = Field(
        default=None, description="Also suppress zero counts (null: the hub's "
        "`safe_output_suppress_zeros`, default false); cannot be false when the hub's is "
        "true", examples=[False])


class DataSharingAgreement(_Model):
    """A research request: the data sharing agreement every agency's steward and the
    governance quorum approve. A complete example: docs/sample-agreement.json.

    Besides each field's own limits, an agreement is refused (422 `invalid_request`)
    unless:

    * `term_end` is after `term_start`;
    * `variables` names each agency once, each with distinct variables and `first_year`
      not after `last_year`;
    * every agency in `variables` exists and has enrolled its node, every variable (and
      every variable a cohort condition names) is in that agency's catalog and covers
      every year from `first_year` to `last_year` (`GET /v1/catalog`);
    * no variable name or cohort value looks like a person's identifier
      (`identifier_variable`, `identifier_value`);
    * `agency_contacts` names only agencies in `variables`;
    * an `irb.status` of `approved` or `exempt` has `board`, `protocol_number` and
      `approval_date`;
    * `extract.formats` repeats no format.

    A linkage run needs `matching_authorised: true`. Only personnel listed with the email
    of their hub account (and the request's owner) may download the extract. Unknown
    fields are refused everywhere.
    """

    title: Short = Field(description="Short title, shown on the public page once approved",
                         examples=["Early grades and college enrolment"])
    institution: Short = Field(description="The research institution",
                               examples=["State University"])
    research_questions: list[Long] = Field(
        min_length=1, max_length=50, description="The questions the data will answer",
        examples=[["Do third-grade reading scores predict enrolling in college?"]])
    public_summary: Annotated[str, Field(min_length=1, max_length=2000)] = Field(
        description="Plain-language summary, published on the public transparency page",
        examples=["How achievement in the early grades relates to enrolling in college."])
    scope_and_deliverables: Long = Field(
        description="What will be produced, for whom",
        examples=["A report to the agencies and a public research brief."])
    allowable_uses: list[Short] = Field(
        min_length=1, max_length=50, description="The only uses the data may be put to",
        examples=[["statistical analysis for the research questions"]])
    variables: list[AgencyVariables] = Field(
        min_length=1, max_length=50, description="What is asked of each agency (one entry "
                                                 "per agency)")
    cohort_description: Long = Field(description="The population studied, in words",
                                     examples=["Students in grade 3 in 2018."])
    personnel: list[Person] = Field(min_length=1, max_length=100,
                                    description="Everyone who will have access to the data")
    agency_contacts: list[AgencyContact] = Field(
        min_length=1, max_length=50, description="A point of contact at each agency asked "
                                                 "(only agencies in `variables`)")
    security_plan: Long = Field(
        description="How the data will be stored and protected",
        examples=["Encrypted workstation in a locked office; no copies."])
    term_start: WireDate = Field(description="YYYY-MM-DD", examples=["2026-01-01"])
    term_end: WireDate = Field(
        description="YYYY-MM-DD, after term_start: the extract expires the day after",
        examples=["2027-12-31"])
    renewal: Renewal = Field(default_factory=Renewal, description="Whether and how the term "
                             "may be renewed (default: not renewable)")
    refresh_frequency: Literal["once", "annual", "semiannual", "quarterly", "monthly"] = \
        Field(description="How often the data is refreshed", examples=["once"])
    matching_authorised: StrictBool = Field(
        description="The agencies authorise linking their records (a run needs true)",
        examples=[True])
    # "return" stays a known value only so agreements stored with it still load (and keep
    # the terms digest their stewards signed); new ones are refused in hub.services.requests.
    disposition: Literal["destroy", "return"] = Field(
        description="What happens to the data at the end of the term: `destroy` (the "
                    "extract is crypto-shredded and its destruction certified). `return` is "
                    "refused (422 `disposition_return_unsupported`): a linked extract holds "
                    "every agency's data on each person; agreements stored with it are "
                    "destroyed like any other", examples=["destroy"])
    interim_findings_plan: Long = Field(
        description="How interim findings are shared before publication",
        examples=["Shared with the agencies 30 days before any publication."])
    irb: Irb = Field(description="The Institutional Review Board's decision on the study")
    deliverables: list[Deliverable] = Field(
        default_factory=list, max_length=50,
        description="Reports owed to the agencies, each with a due date (default: none); "
                    "titles distinct")
    findings_review_days: Annotated[int, Field(ge=0, le=180)] = Field(
        default=30, description="Days the agencies' stewards have to read (and object to) an "
                                "uploaded report before it may be released publicly",
        examples=[30])
    extract: ExtractOptions = Field(default_factory=ExtractOptions, description="How the "
                                    "linked extract is prepared and protected (defaults: "
                                    "Parquet, linked people only, k from the hub)")
    requester_type: RequesterType = Field(
        default="researcher", description="Who asks: `researcher`, `agency_staff` (the "
        "requester's account institution must be an agency asked) or `vendor` (more "
        "governance approvals; record-level extracts only if the hub's policy allows); "
        "the hub's `requester_rules` say what each type must meet", examples=["researcher"])
    agenda_items: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] = Field(
        default_factory=list, max_length=20, description="Ids of the research agenda's "
        "priority questions this request answers (`GET /v1/agenda`); unknown or retired "
        "ones are refused (422 `unknown_agenda_item`)", examples=[[1]])
    pre_analysis_plan: PreAnalysisPlan | None = Field(
        default=None, description="The pre-analysis plan, published after approval when "
        "`publish` is true (null: none)")
    outputs: OutputPolicy = Field(
        default_factory=OutputPolicy, description="How the project's output tables are "
        "protected (suppression threshold, rounding, zeros); defaults: the hub's "
        "(docs/safe-outputs.md)")
    file_types: list[FileType] = Field(
        default_factory=lambda: list[FileType](["restricted_use"]), min_length=1,
        max_length=2, description="The record-level files the agreement authorises: "
        "`restricted_use` (the linked extract, only for the approved project's personnel) "
        "and/or `public_use` (a file released publicly through the airlock after it passes "
        "the disclosure checks on every column, docs/public-use-files.md); each once",
        examples=[["restricted_use", "public_use"]])

    @model_validator(mode="after")
    def _consistent(self) -> DataSharingAgreement:
        if self.term_end <= self.term_start:
            raise ValueError(
                f"term_end ({self.term_end}) must be after term_start ({self.term_start})"
            )
        agencies = [entry.agency for entry in self.variables]
        if len(set(agencies)) != len(agencies):
            raise ValueError("variables lists an agency more than once")
        if len(set(self.agenda_items)) != len(self.agenda_items):
            raise ValueError("agenda_items lists an agenda item more than once")
        if len(set(self.file_types)) != len(self.file_types):
            raise ValueError("file_types repeats a file type")
        return self

    @model_validator(mode="after")
    def _distinct_deliverables(self) -> DataSharingAgreement:
        titles = [d.title for d in self.deliverables]
        if len(set(titles)) != len(titles):
            raise ValueError("deliverables repeat a title")
        return self

    @property
    def agencies(self) -> list[str]:
        return sorted(entry.agency for entry in self.variables)

    def for_agency(self, agency: str) -> AgencyVariables | None:
        return next((entry for entry in self.variables if entry.agency == agency), None)

