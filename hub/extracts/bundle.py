"""The extract bundle: one zip, streamed into the encrypting writer (never plaintext on disk).

Layout (docs/extracts.md)::

    README.txt                  what this is, the terms in one paragraph, how to verify
    manifest.json               extract, project, run, created/expires, formats, and per
                                member its size and SHA-256
    terms.json                  allowable uses, term, expiry, disposition, personnel roles
    data_dictionary.json|.csv   per column: table, variable, source agency, description,
                                classification, type, years, quasi-identifier, the
                                transformation disclosure control applied, and the
                                table's grain (what one row is)
    quality_report.json         the linkage run's quality report
    disclosure_report.json      k, policy, classes below k before/after, per-variable rules
    tables/agency_<CODE>.<fmt>  one table per agency, keyed by person_id: one row per
                                person, or one per person and period (columns person_id,
                                period, variables) when the agency's data are longitudinal
    tables/persons.<fmt>        person_id, which agencies matched
    tables/links.<fmt>          person_id, each link's coarse match band

``<fmt>`` is ``parquet`` and/or ``csv`` as the agreement asks.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from collections.abc import Mapping
from typing import Any, Protocol

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from hub.domain.csv_cells import safe_frame, safe_row


class Sink(Protocol):
    """Where the zip goes: a writable, possibly non-seekable, binary stream."""

    def write(self, data: bytes, /) -> int: ...

    def tell(self) -> int: ...

    def flush(self) -> None: ...


DICTIONARY_FIELDS = ("table", "variable", "source_agency", "description", "classification",
                     "type", "years", "quasi_identifier", "transformation",
                     "cells_suppressed", "grain")


def _parquet(frame: pd.DataFrame) -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), sink,
                   compression="zstd")
    return sink.getvalue()


def _csv(frame: pd.DataFrame) -> bytes:
    # Text cells that a spreadsheet would run as a formula are quoted (hub.domain.csv_cells).
    return str(safe_frame(frame).to_csv(index=False, lineterminator="\n")).encode("utf-8")


def _dictionary_csv(rows: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=DICTIONARY_FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(safe_row({**row, "years": "-".join(map(str, row.get("years") or []))}))
    return out.getvalue().encode("utf-8")


def _json(value: Any) -> bytes:
    return json.dumps(value, indent=2, sort_keys=True, default=str).encode("utf-8") + b"\n"


def _table_lines(manifest: Mapping[str, Any], grains: Mapping[str, str]) -> str:
    return "\n".join(f"  tables/{name}: {rows} rows, {grains.get(name, 'one row per person')}"
                     for name, rows in manifest["tables"].items())


def _readme(manifest: Mapping[str, Any], terms: Mapping[str, Any],
            grains: Mapping[str, str]) -> bytes:
    uses = "; ".join(terms.get("allowable_uses", []))
    text = f"""Fedlink linked extract {manifest['extract_id']}
Project {manifest['project_id']}: {terms.get('title', '')}

This de-identified extract may be used only for: {uses}.
It expires at {manifest['expires_at']}; by then every copy must be destroyed and the
destruction certified (`POST /v1/extracts/{manifest['extract_id']}/certify-destruction`);
the hub crypto-shreds its own copy then.
Do not attempt to re-identify anyone, link it to other data, or share it beyond the
personnel named in the agreement.

Person ids are random and specific to this extract. data_dictionary.csv describes every
column and what disclosure control did to it; manifest.json lists every file's SHA-256.

Tables (what one row is). A table with one row per person and period holds several rows
of one person; count people with distinct person_id, not rows.
{_table_lines(manifest, grains)}
"""
    return text.encode("utf-8")


def write_bundle(sink: Sink, *, manifest: dict[str, Any],
                 tables: Mapping[str, pd.DataFrame], formats: list[str],
                 dictionary: list[dict[str, Any]], quality_report: Mapping[str, Any],
                 disclosure_report: Mapping[str, Any], terms: Mapping[str, Any]) -> None:
    """Write the bundle zip into ``sink`` (a streaming, non-seekable writer is fine)."""
    members: list[tuple[str, bytes]] = [
        ("terms.json", _json(terms)),
        ("data_dictionary.json", _json(dictionary)),
        ("data_dictionary.csv", _dictionary_csv(dictionary)),
        ("quality_report.json", _json(quality_report)),
        ("disclosure_report.json", _json(disclosure_report)),
    ]
    for name in sorted(tables):
        for fmt in formats:
            data = _parquet(tables[name]) if fmt == "parquet" else _csv(tables[name])
            members.append((f"tables/{name}.{fmt}", data))
    manifest = {**manifest, "formats": formats,
                "tables": {name: len(frame) for name, frame in sorted(tables.items())},
                "files": {name: {"bytes": len(data),
                                 "sha256": hashlib.sha256(data).hexdigest()}
                          for name, data in members}}
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:  # type: ignore[call-overload]
        grains = {row["table"]: row["grain"] for row in dictionary if row.get("grain")}
        archive.writestr("README.txt", _readme(manifest, terms, grains))
        archive.writestr("manifest.json", _json(manifest))
        for name, data in members:
            archive.writestr(name, data)
