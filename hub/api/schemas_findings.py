"""Bodies and answers of the findings and publications routes (hub.services.findings,
hub.services.publications; docs/findings.md)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from hub.api.schemas_views import Date, Time, View

ProjectId = Annotated[str, Field(min_length=1, max_length=32)]
#: base64 of at most 10 MiB (hub.services.findings.MAX_REPORT_BYTES), with padding.
_B64_MAX = 4 * ((10 << 20) + 2) // 3 + 4


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ReportCreate(_Body):
    """A report uploaded to a project: shared with its agencies' stewards at once, public
    only once released after the review window."""

    project_id: ProjectId = Field(description="The approved project it reports on",
                                  examples=["prj-0e14fc18607c"])
    title: Annotated[str, Field(min_length=1, max_length=300)] = Field(
        description="The report's title (published once released)",
        examples=["Interim report: third-grade scores and enrolment"])
    kind: Literal["interim", "final", "brief", "other"] = Field(
        description="`interim` report, `final` paper, research `brief` or `other`",
        examples=["interim"])
    deliverable: Annotated[str, Field(min_length=1, max_length=300)] | None = Field(
        default=None, description="The title of the agreement's deliverable it answers "
                                  "(null: none)", examples=["Interim report to the agencies"])
    filename: Annotated[str, Field(min_length=1, max_length=200)] = Field(
        description="The file's name: letters, digits, spaces, dots, dashes, underscores",
        examples=["interim-report.pdf"])
    content_type: Literal[
        "application/pdf", "text/plain", "text/markdown",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"] = Field(
        description="PDF, plain text, Markdown or Word (.docx); checked against the file's "
                    "bytes (422 `bad_report_file`)", examples=["application/pdf"])
    content_base64: Annotated[str, Field(min_length=1, max_length=_B64_MAX)] = Field(
        description="The file, base64 (at most 10 MiB decoded: 422 `report_too_large`)",
        examples=["JVBERi0xLjcK"])


class CommentCreate(_Body):
    """A comment, or an objection that blocks the release while it stands."""

    kind: Literal["comment", "objection"] = Field(
        default="comment", description="`comment`, or `objection` (stewards, within the "
                                       "review window)", examples=["objection"])
    text: Annotated[str, Field(min_length=1, max_length=10_000)] = Field(
        description="What the agency asks or objects to (the researcher reads it)",
        examples=["Table 3 shows a cell of 4 students at one school; suppress it."])


class OverrideBody(_Body):
    reason: Annotated[str, Field(min_length=1, max_length=5000)] = Field(
        description="Why governance overrides the objection (audited, shown to the project)",
        examples=["The cell was suppressed in version 2; the agency did not answer."])


class PublicationCreate(_Body):
    """An entry of the publications register."""

    project_id: ProjectId = Field(description="The approved project it comes from",
                                  examples=["prj-0e14fc18607c"])
    citation: Annotated[str, Field(min_length=1, max_length=2000)] = Field(
        description="The full citation", examples=[
            "Researcher, A. (2027). Early grades and college enrolment. J. Educ. 12(3)."])
    published_on: dt.date = Field(description="Publication date (YYYY-MM-DD)",
                                  examples=["2027-06-01"])
    url: Annotated[str, Field(max_length=500)] | None = Field(
        default=None, description="Where to read it (http or https)",
        examples=["https://journal.example/article/42"])
    doi: Annotated[str, Field(max_length=200)] | None = Field(
        default=None, description="Its DOI (`10.NNNN/suffix`)", examples=["10.1234/jed.2027.42"])
    report_id: Annotated[str, Field(max_length=40)] | None = Field(
        default=None, description="The released report it publishes (409 "
                                  "`report_not_released` while still in review)",
        examples=["rpt-5c2e9a0b1d7f"])


class CommentView(View):
    """A comment or objection on a report (authors by role and agency, never by name)."""

    id: int = Field(description="The comment's id", examples=[4])
    kind: str = Field(description="`comment` or `objection`", examples=["objection"])
    author_role: str = Field(description="The author's role: steward, governance or "
                             "researcher", examples=["steward"])
    agency: str | None = Field(description="The steward's agency (null for others)",
                               examples=["K12"])
    text: str = Field(description="The comment's text")
    created_at: Time = Field(description="When it was written")
    status: str | None = Field(description="An objection's state: `standing` (blocks the "
                               "release), `withdrawn` or `overridden`; null for a comment",
                               examples=["standing"])
    override_reason: str | None = Field(description="Governance's reason, when overridden")


class ReportView(View):
    """A report's metadata (the file: `GET /v1/findings/{report_id}/file`)."""

    id: str = Field(description="The report's id", examples=["rpt-5c2e9a0b1d7f"])
    project_id: str = Field(description="Its project", examples=["prj-0e14fc18607c"])
    deliverable: str | None = Field(description="The deliverable it answers (null: none)")
    title: str = Field(description="The report's title")
    kind: str = Field(description="interim, final, brief or other", examples=["interim"])
    filename: str = Field(description="The uploaded file's name",
                          examples=["interim-report.pdf"])
    content_type: str = Field(description="The file's media type",
                              examples=["application/pdf"])
    size_bytes: int = Field(description="The file's size in bytes", examples=[48213])
    sha256: str = Field(description="SHA-256 (hex) of the file")
    status: str = Field(description="`in_review` (agencies and governance only) or "
                        "`released` (public)", examples=["in_review"])
    created_at: Time = Field(description="When it was uploaded (and shared)")
    review_days: int = Field(description="The review window, days (the agreement's "
                             "`findings_review_days` at upload)", examples=[30])
    review_ends_at: Time = Field(description="When the window closes")
    window_open: bool = Field(description="true while stewards may still object")
    standing_objections: int = Field(description="Objections neither withdrawn nor "
                                     "overridden: each blocks the release", examples=[0])
    releasable: bool = Field(description="true when it may be released now (in review, "
                             "window closed, no standing objection)")
    released_at: Time | None = Field(description="When it was released; null before")
    comments: list[CommentView] | None = Field(default=None, description="Comments and "
                                               "objections (when read one by one)")


class DeliverableView(View):
    title: str = Field(description="The deliverable's title")
    kind: str = Field(description="interim, final or other", examples=["interim"])
    due: Date = Field(description="Due day")
    status: str = Field(description="`released` (a report released), `in_review` (a report "
                        "shared, not yet released), `overdue` or `due`", examples=["overdue"])
    reports: list[str] = Field(description="Ids of the reports uploaded for it")


class PublicationView(View):
    id: str = Field(description="The entry's id", examples=["pub-5c2e9a0b1d7f"])
    project_id: str = Field(description="Its project", examples=["prj-0e14fc18607c"])
    project_title: str | None = Field(default=None, description="The project's title (in "
                                      "the register)")
    report_id: str | None = Field(description="The released report it publishes (null: none)")
    citation: str = Field(description="The full citation")
    url: str | None = Field(description="Where to read it")
    doi: str | None = Field(description="Its DOI")
    published_on: Date = Field(description="Publication date")


class ReleasedFinding(View):
    """A released report on a project's public entry."""

    id: str = Field(description="The report's id (`GET /v1/public/findings/{report_id}`)",
                    examples=["rpt-5c2e9a0b1d7f"])
    title: str = Field(description="The report's title")
    kind: str = Field(description="interim, final, brief or other", examples=["final"])
    deliverable: str | None = Field(description="The deliverable it answers (null: none)")
    content_type: str = Field(description="The file's media type",
                              examples=["application/pdf"])
    size_bytes: int = Field(description="The file's size in bytes", examples=[48213])
    sha256: str = Field(description="SHA-256 (hex) of the file: check a copy against it")
    released_at: Date | None = Field(description="The day it was released")
