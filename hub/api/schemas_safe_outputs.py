"""Bodies and answers of automatic safe outputs (``POST /v1/projects/{id}/safe-tables``,
docs/safe-outputs.md)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from hub.api.schemas_views import View
from hub.disclosure.safe_tables import SUPPRESSED_MARK
from hub.services.safe_outputs import SafeTable

Variable = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.\-]+$")]


class GroupBy(BaseModel):
    """How ``fedlink output protect --rows/--columns`` built the table from the decrypted
    extract on the researcher's machine (the hub receives only the counts)."""

    model_config = ConfigDict(extra="forbid")
    rows: Variable = Field(description="The variable whose values are the table's rows",
                           examples=["school"])
    columns: Variable | None = Field(default=None, description="The variable whose values "
                                     "are its columns (null: a 1-D table)",
                                     examples=["sex"])


class SafeTableCreate(BaseModel):
    """A table of counts to protect (CSV text, at most 2 MB): first column the row labels,
    every other column counts, with or without a `Total` row and column (they must add up).
    Not stripped: labels are kept as sent."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)
    csv: Annotated[str, Field(min_length=1, max_length=2_000_000)] = Field(
        description="The unprotected counts as CSV, header first",
        examples=["school,Female,Male\nOak,3,13\nElm,20,30\nPine,30,40\n"])
    group_by: GroupBy | None = Field(
        default=None, description="When the CLI built the table from the extract: the "
        "variables it grouped by (recorded in the audit log; null: a table sent as is)")


class SafeCellView(View):
    """One cell of the protected table."""

    value: int | None = Field(description="The published count, rounded per the policy "
                              "(null: suppressed)", examples=[30])
    status: Literal["published", "primary", "complementary"] = Field(
        description="`published`, `primary` (suppressed: small, or zero when zeros are "
        "suppressed) or `complementary` (suppressed to protect another)",
        examples=["published"])
    reason: str | None = Field(description="Why it is suppressed (null: published)",
                               examples=["primary: a count below 10"])


class SafeRulesView(View):
    """The rules the table was protected with: the project's agreement (`outputs`) within
    the hub's floors."""

    min_cell: int = Field(description="Counts from 1 to min_cell - 1 were suppressed",
                          examples=[10])
    rounding_base: int = Field(description="Published counts are multiples of this (1: not "
                               "rounded)", examples=[5])
    suppress_zeros: bool = Field(description="Zero counts were suppressed too",
                                 examples=[False])
    project_set: list[str] = Field(description="The fields the project's agreement sets "
                                   "(the others are the hub's)", examples=[["rounding_base"]])


class AirlockFindingView(View):
    """A finding of the airlock's automatic checks on the protected table."""

    check: str = Field(description="Which check: `small_cell` or `recoverable_cell`",
                       examples=["recoverable_cell"])
    where: str = Field(description="The cell (row, column labels)", examples=["(Oak, Male)"])
    detail: str = Field(description="What is wrong, without the value")


class SafeTableView(View):
    """The protected table, ready for the airlock (`POST /v1/outputs` with `csv`, kind
    `frequency`)."""

    project_id: str = Field(description="The project", examples=["prj-0e14fc18607c"])
    one_way: bool = Field(description="A 1-D table (one count per row label) rather than "
                          "a 2-D one", examples=[False])
    label_header: str = Field(description="The header of the label column",
                              examples=["school"])
    row_labels: list[str] = Field(description="Row labels; the last is `Total`",
                                  examples=[["Oak", "Elm", "Pine", "Total"]])
    column_labels: list[str] = Field(description="Column labels; the last is `Total` for "
                                     "a 2-D table", examples=[["Female", "Male", "Total"]])
    cells: list[list[SafeCellView]] = Field(description="One list per row label, one cell "
                                            "per column label")
    rules: SafeRulesView = Field(description="The rules applied")
    primary: int = Field(description="How many cells were suppressed as small",
                         examples=[1])
    complementary: int = Field(description="How many were suppressed to protect them",
                               examples=[3])
    rounded: bool = Field(description="Published counts are rounded (totals rounded on "
                          "their own: cells need not add up to them)", examples=[False])
    input_had_margins: bool = Field(description="The table sent had a totals row or column "
                                    "(checked to add up)", examples=[False])
    csv: str = Field(description=f"The protected table as CSV, suppressed cells "
                     f"`{SUPPRESSED_MARK}`, margins included: submit it to the airlock as is")
    airlock_passed: bool = Field(description="The airlock's own automatic checks pass on it "
                                 "(submitted, it goes straight to the stewards)",
                                 examples=[True])
    airlock_findings: list[AirlockFindingView] = Field(
        description="What the airlock's checks found (empty when it passes)")


def safe_table_view(safe: SafeTable) -> dict[str, object]:
    """:class:`SafeTableView` of a protected table."""
    table, rules = safe.table, safe.rules
    return {
        "project_id": safe.project_id, "one_way": table.one_way,
        "label_header": table.label_header, "row_labels": table.row_labels,
        "column_labels": table.column_labels,
        "cells": [[{"value": c.value, "status": c.status, "reason": c.reason} for c in row]
                  for row in table.cells],
        "rules": {"min_cell": rules.min_cell, "rounding_base": rules.rounding_base,
                  "suppress_zeros": rules.suppress_zeros,
                  "project_set": list(rules.project_set)},
        "primary": table.count("primary"), "complementary": table.count("complementary"),
        "rounded": table.rounded, "input_had_margins": safe.had_margins, "csv": safe.csv,
        "airlock_passed": safe.airlock.passed, "airlock_findings": safe.airlock.findings,
    }
