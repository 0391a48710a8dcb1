"""Bodies and answers of public-use files (``POST /v1/projects/{id}/public-use-files``,
docs/public-use-files.md)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from hub.api.schemas_views import View
from hub.disclosure.public_use import SUPPRESSED
from hub.services.public_use import PublicUseFile


class PublicUseCreate(BaseModel):
    """A record-level file to make safe for public use (CSV text, at most 2 MB): a header,
    then one row per record. Every column is measured; names are not trusted."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)
    csv: Annotated[str, Field(min_length=1, max_length=2_000_000)] = Field(
        description="The records as CSV, header first",
        examples=["sch,grade,sex,score\n12,3,F,231.5\n12,3,M,244.0\n"])
    continuous: Literal["recode", "noise"] = Field(
        default="recode", description="What is done to continuous columns after top- and "
        "bottom-coding: `recode` (quantile bands) or `noise` (Gaussian noise, values kept "
        "numeric)", examples=["recode"])


class RiskView(View):
    """The disclosure risk of the file, measured on its values."""

    rows: int = Field(description="Records in the file", examples=[1200])
    columns: int = Field(description="Columns measured (every column)", examples=[4])
    k: int = Field(description="The smallest class allowed (the project's k)", examples=[5])
    combination_sizes_checked: int = Field(
        description="Combinations of up to this many columns were checked (all of them)",
        examples=[3])
    combinations_checked: int = Field(description="How many combinations of columns were "
                                      "checked", examples=[14])
    combinations_skipped: int = Field(description="Larger combinations left out by the "
                                      "budget (0: none)", examples=[0])
    sample_uniques: int = Field(description="Records alone in their class on some checked "
                                "combination", examples=[0])
    special_uniques: int = Field(description="Records with a minimal sample unique (unique "
                                 "on a combination, on none of its subsets)", examples=[0])
    records_below_k: int = Field(description="Records in a class smaller than k on some "
                                 "checked combination", examples=[0])
    msus_by_size: dict[str, int] = Field(description="Minimal sample uniques by the number "
                                         "of columns they take", examples=[{"1": 2, "2": 7}])
    column_msus: dict[str, int] = Field(description="Per column: the minimal sample uniques "
                                        "it takes part in", examples=[{"sch": 7}])
    max_suda_score: float = Field(description="The largest SUDA-style score of a record "
                                  "(0: no special unique)", examples=[0.0])
    max_risk: float = Field(description="The largest re-identification risk of a record "
                            "(1 / its smallest class)", examples=[0.2])
    mean_risk: float = Field(description="The mean re-identification risk", examples=[0.01])
    expected_reidentifications: float = Field(description="The sum of the records' risks",
                                              examples=[12.5])
    outliers: list[str] = Field(description="Continuous columns whose largest or smallest "
                                "value is held by fewer than k records", examples=[[]])


class PublicUseFindingView(View):
    """Why the file is not safe (names columns and counts, never a value)."""

    check: str = Field(description="`sample_unique`, `small_class`, `not_top_coded`, "
                       "`identifier_like`, `too_much_suppression` (and, from the airlock, "
                       "`k_anonymity` on declared quasi-identifiers)",
                       examples=["sample_unique"])
    where: str = Field(description="The column, or `every column`", examples=["sch"])
    detail: str = Field(description="What is wrong, without a value")


class PublicUseView(View):
    """The file with the methods applied, ready for the airlock (`POST /v1/outputs` with
    `csv`, kind `records`)."""

    project_id: str = Field(description="The project", examples=["prj-0e14fc18607c"])
    passed: bool = Field(description="The released file passes every check",
                         examples=[True])
    csv: str = Field(description=f"The released file as CSV, locally suppressed cells "
                     f"`{SUPPRESSED}`: submit it to the airlock as is")
    methods: dict[str, list[str]] = Field(
        description="Per column, what was done (global recoding, top- and bottom-coding, "
        "noise, local suppression) with counts; empty: left as is",
        examples=[{"sch": ["global recoding: 3 rare categories (each < 5 records) into "
                           "Other"]}])
    suppressed_cells: int = Field(description="Cells locally suppressed", examples=[4])
    before: RiskView = Field(description="The risk of the file as sent")
    after: RiskView = Field(description="The risk of the released file")
    findings: list[PublicUseFindingView] = Field(description="What still fails (empty when "
                                                 "it passes)")
    airlock_passed: bool = Field(description="The airlock's own automatic checks pass on the "
                                 "released file (submitted as `records`, it goes straight to "
                                 "the stewards)", examples=[True])
    airlock_findings: list[PublicUseFindingView] = Field(
        description="What the airlock's checks found on it (empty when it passes)")


def public_use_view(released: PublicUseFile) -> dict[str, object]:
    """:class:`PublicUseView` of a protected file."""
    protection = released.protection
    return {"project_id": released.project_id, "passed": protection.passed,
            "csv": protection.csv(),
            "methods": protection.methods, "suppressed_cells": protection.suppressed_cells,
            "before": protection.before.report(), "after": protection.after.report(),
            "findings": protection.findings(), "airlock_passed": released.airlock.passed,
            "airlock_findings": released.airlock.findings}
