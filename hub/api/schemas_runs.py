"""What the API answers about linkage runs, extracts and outputs (the rest of the
response bodies, and the conventions they all follow, are :mod:`hub.api.schemas_views`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from hub.api.schemas_views import Document, Time, View


# --- runs, extracts, outputs ------------------------------------------------------------
class Failure(View):
    code: str | None = Field(description="Machine-readable failure code",
                             examples=["project_not_linking"])
    agency: str | None = Field(description="The node that caused it, if one did")
    reason: str | None = Field(description="What went wrong, in words")


class RunView(View):
    """A linkage run (never a pid)."""

    id: str = Field(description="The run's id", examples=["run-3f9a2c1d"])
    project_id: str = Field(description="The request (project) it links for",
                            examples=["prj-0e14fc18607c"])
    status: str = Field(description="queued, running, succeeded or failed",
                        examples=["succeeded"])
    attempt: int = Field(description="Which attempt of this run (a worker retries after a "
                         "crash; 0 while queued)", examples=[1])
    agencies: list[str] = Field(description="Codes of the agencies linked",
                                examples=[["K12", "HIGHERED"]])
    deduplicated: list[str] = Field(description="Agencies whose person ids were deduplicated")
    requested_by: str = Field(description="Who asked for it (audit actor)",
                              examples=["user:7"])
    requested_at: Time | None = Field(description="When it was queued (ISO 8601, UTC)")
    started_at: Time | None = Field(description="When it started (ISO 8601, UTC); null "
                                    "while queued")
    finished_at: Time | None = Field(description="When it ended (ISO 8601, UTC); null "
                                     "while queued or running")
    seconds: float | None = Field(description="Run time in seconds; null until it ends",
                                  examples=[12.4])
    steps: list[Document] = Field(description="Progress steps with counts")
    counts: Document = Field(description="Record and match counts so far (per agency and "
                             "linked)")
    failure: Failure | None = Field(description="Why it failed; null unless failed")
    report: Document | None = Field(
        default=None, description="The quality report (not in lists)")


class ExtractFailure(View):
    code: str = Field(description="Machine-readable failure code")
    reason: str | None = Field(description="What went wrong, in words")


class ExtractView(View):
    """An extract's metadata (never its data)."""

    id: str = Field(description="The extract's id", examples=["ext-128c4084b22a4025"])
    project_id: str = Field(description="The request (project) it is for",
                            examples=["prj-0e14fc18607c"])
    run_id: str = Field(description="The linkage run it was built from",
                        examples=["run-3f9a2c1d"])
    status: str = Field(description="building, available, held (disclosure control asks "
                        "the stewards), withheld, failed or destroyed", examples=["available"])
    created_at: Time | None = Field(description="When it was asked for (ISO 8601, UTC)")
    finished_at: Time | None = Field(description="When building ended (ISO 8601, UTC); null "
                                     "while building")
    expires_at: Time | None = Field(description="When downloads stop: the day after the "
                                    "agreement's term_end (ISO 8601, UTC)")
    formats: list[str] = Field(description="Table formats in the bundle (parquet, csv)",
                               examples=[["parquet"]])
    include_unmatched: bool = Field(description="People found in one agency only are "
                                    "included too")
    variables: dict[str, list[str]] = Field(description="Variables per agency")
    tables: dict[str, int] = Field(description="Rows per table")
    persons: int = Field(description="People (linked persons) in the extract",
                         examples=[1840])
    sha256: str | None = Field(description="SHA-256 of the bundle (zip)")
    ciphertext_sha256: str | None = Field(
        description="SHA-256 of the download when sealed to the researcher's key")
    size_bytes: int | None = Field(description="Size of the download in bytes; null "
                                   "until built", examples=[482113])
    encryption: Literal["hub", "researcher"] = Field(
        description="`hub`: encrypted at rest with the hub's key; `researcher`: the download "
                    "is sealed to the researcher's X25519 key", examples=["researcher"])
    recipient_key: Document | None = Field(
        description="The extract key sealed to the researcher's X25519 key (HPKE: suite, kid, "
                    "info, ciphertext)")
    disclosure: Document | None = Field(description="What disclosure control did")
    failure: ExtractFailure | None = Field(description="Why it failed; null unless failed")
    destroyed_at: Time | None = Field(description="When the hub destroyed its copy (ISO "
                                      "8601, UTC); null while kept")
    destroyed_reason: str | None = Field(description="Why it was destroyed (expiry, "
                                         "revocation, …); null while kept",
                                         examples=["expired"])
    destruction: Document | None = Field(description="The destruction record, with the "
                                         "researcher's certification once given")


class OutputReview(View):
    agency: str = Field(description="The reviewing steward's agency", examples=["K12"])
    decision: str = Field(description="`release` or `return`")
    comments: str = Field(description="The steward's comments for the researcher (may be "
                          "empty)")
    at: Time


class OutputView(View):
    """An airlock output table (``content`` only when read one by one)."""

    id: str = Field(description="The output's id", examples=["out-5c2e9a0b1d7f"])
    project_id: str = Field(description="The request (project) it belongs to",
                            examples=["prj-0e14fc18607c"])
    name: str = Field(description="The researcher's name for the table",
                      examples=["Enrolment by third-grade score band"])
    description: str = Field(description="The researcher's description (may be empty)")
    kind: Literal["frequency", "means", "records"] = Field(
        description="counts, means, or record-level rows", examples=["frequency"])
    sha256: str = Field(description="SHA-256 (hex) of the CSV text, published once released")
    status: str = Field(description="`pending_review` (waiting for the stewards), "
                        "`released` or `returned`", examples=["pending_review"])
    checks: Document = Field(description="Automatic disclosure checks (findings name cells "
                             "by label, never by value)")
    created_at: Time | None = Field(description="When it was submitted (ISO 8601, UTC)")
    decided_at: Time | None = Field(description="When it was released or returned (ISO "
                                    "8601, UTC); null while pending")
    content: str | None = Field(default=None, description="The CSV text")
    reviews: list[OutputReview] | None = Field(
        default=None, description="Stewards' reviews (when read one by one)")
