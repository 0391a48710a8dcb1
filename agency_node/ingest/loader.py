"""Loading the source into the node store: check every row, upsert the good ones by local
id, quarantine the others with row number, column and reason.

A row is unusable when it is structurally broken (ragged, unparseable quoting), holds
bytes no configured encoding decodes, has no or a repeated ``record_id``, has a field
over ``max_field_length``, has no usable identity field at all, or has an attribute (or
year) that does not parse as its declared type. ``strict`` loads nothing if any row is
unusable, but still records the quarantine so the steward sees why.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from agency_node.config import NodeConfig
from agency_node.errors import IngestError, SourceError
from agency_node.ingest.columns import check_header, parse_value, parse_year
from agency_node.ingest.sources import Problem, RawRow, SourceStats, describe, open_source
from agency_node.services.audit import AuditLog
from agency_node.store.identity_json import identity_to_json
from agency_node.store.ingest_runs import add_quarantine, start_run
from agency_node.store.models import IngestRun
from agency_node.store.records import count_records, upsert_records
from protocol.identity import IDENTITY_FIELDS
from protocol.normalize import NormalizationOptions, normalize_identity

_BATCH = 1000
_RECORD_ID_MAX = 255


@dataclass
class IngestSummary:
    run_id: int
    source: str
    status: str
    strict: bool
    rows: int = 0
    loaded: int = 0
    quarantined: int = 0
    blank_lines: int = 0
    records_in_store: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    encoding_fallbacks: dict[str, int] = field(default_factory=dict)
    sample: list[dict[str, Any]] = field(default_factory=list)


class _RowChecker:
    def __init__(self, config: NodeConfig, run_id: int) -> None:
        self.config = config
        self.run_id = run_id
        self.seen: dict[str, int] = {}
        self.options = NormalizationOptions(date_order=config.source.date_order)

    def check(self, raw: RawRow) -> tuple[dict[str, Any] | None, list[Problem]]:
        problems = list(raw.problems)
        if raw.values is None:
            return None, problems
        values = raw.values
        limit = self.config.source.max_field_length
        problems += [
            Problem(col, "field_too_long", f"{len(text)} characters, limit {limit}")
            for col, text in values.items()
            if len(text) > limit
        ]
        mapping = self.config.mapping
        record_id = values.get(mapping.record_id, "").strip()
        if not record_id:
            problems.append(Problem(mapping.record_id, "missing_record_id", "no local id"))
        elif len(record_id) > _RECORD_ID_MAX:
            problems.append(Problem(mapping.record_id, "field_too_long", "record id too long"))
        elif record_id in self.seen:
            first = self.seen[record_id]
            problems.append(Problem(mapping.record_id, "duplicate_record_id",
                                    f"same record_id as row {first}"))
        else:
            self.seen[record_id] = raw.row_number
        year = None
        if mapping.year_column and values.get(mapping.year_column, "").strip():
            year = parse_year(values[mapping.year_column])
            if year is None:
                problems.append(Problem(mapping.year_column, "bad_year", "no four-digit year"))
        attributes: dict[str, Any] = {}
        for name, var in self.config.variables.items():
            try:
                attributes[name] = parse_value(values.get(var.column, ""), var.type)
            except ValueError:
                problems.append(Problem(var.column, "bad_attribute_type", f"expected {var.type}"))
        raw_identity = {fld: values.get(col, "") for fld, col in mapping.identity.items()}
        identity = normalize_identity(raw_identity, self.options)
        if not any(identity.present(f) for f in IDENTITY_FIELDS):
            why = ", ".join(f"{f}={identity.problems.get(f, 'absent')}" for f in mapping.identity)
            problems.append(Problem("*", "no_identity", f"no usable identity field ({why})"))
        if problems:
            return None, problems
        return {
            "record_id": record_id,
            "identity": identity_to_json(identity),
            "raw_identity": raw_identity,
            "attributes": attributes,
            "year": year,
            "source_row": raw.row_number,
            "encoding": raw.encoding,
            "ingest_run_id": self.run_id,
        }, []


def _required_columns(config: NodeConfig) -> list[str]:
    mapping = config.mapping
    columns = [mapping.record_id, *mapping.identity.values()]
    columns += [v.column for v in config.variables.values()]
    if mapping.year_column:
        columns.append(mapping.year_column)
    return columns


def run_ingest(
    config: NodeConfig,
    sessions: sessionmaker[Session],
    audit: AuditLog,
    *,
    strict: bool = False,
    now: dt.datetime | None = None,
) -> IngestSummary:
    """Load the configured source; raise IngestError when ``strict`` and a row is bad."""
    started = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
    source_name = describe(config.source)
    stats = SourceStats()
    with sessions() as session:
        run = start_run(session, started_at=started, source=source_name, strict=strict)
        session.commit()
        summary = IngestSummary(run_id=run.id, source=source_name, status="running", strict=strict)
        try:
            _load(config, session, run, summary, stats, strict=strict)
        except SourceError as exc:
            session.rollback()
            run.status = "failed"
            session.commit()
            audit.append(actor="operator", typ="ingest", outcome="failed", reason=exc.code,
                         details={"run": run.id})
            raise
        summary.records_in_store = count_records(session)
    audit.append(
        actor="operator", typ="ingest", outcome=summary.status,
        details={"run": summary.run_id, "rows": summary.rows, "loaded": summary.loaded,
                 "quarantined": summary.quarantined, "reasons": dict(summary.reasons)},
    )
    if summary.status == "failed_strict":
        raise IngestError(
            f"--strict: {summary.quarantined} of {summary.rows} rows are unusable "
            f"({_reason_list(summary.reasons)}); nothing was loaded — see `fedlink node profile`"
        )
    return summary


def _reason_list(reasons: Counter[str]) -> str:
    return ", ".join(f"{reason}: {n}" for reason, n in reasons.most_common())


def _load(
    config: NodeConfig,
    session: Session,
    run: IngestRun,
    summary: IngestSummary,
    stats: SourceStats,
    *,
    strict: bool,
) -> None:
    loading = True
    pending: list[dict[str, Any]] = []
    quarantine: list[dict[str, Any]] = []
    with open_source(config.source, stats) as (header, rows):
        check_header(header)
        missing = [c for c in _required_columns(config) if c not in header]
        if missing:
            raise SourceError(f"the source has no column {', '.join(map(repr, missing))} "
                              "named in node.toml")
        checker = _RowChecker(config, run.id)
        for raw in rows:
            summary.rows += 1
            record, problems = checker.check(raw)
            if problems:
                summary.quarantined += 1
                if strict and loading:
                    session.rollback()  # discard everything loaded so far
                    pending.clear()
                    loading = False
                for p in problems:
                    summary.reasons[p.reason] += 1
                    entry = {"row_number": raw.row_number, "line_number": raw.line_number,
                             "column": p.column, "reason": p.reason, "detail": p.detail}
                    quarantine.append(entry)
                    if len(summary.sample) < 20:
                        summary.sample.append(entry)
            elif loading and record is not None:
                pending.append(record)
                summary.loaded += 1
            if len(pending) >= _BATCH:
                upsert_records(session, rows=pending)
                pending.clear()
            if len(quarantine) >= _BATCH:
                add_quarantine(session, run_id=run.id, entries=quarantine)
                quarantine.clear()
    if pending:
        upsert_records(session, rows=pending)
    add_quarantine(session, run_id=run.id, entries=quarantine)
    if not loading:
        summary.loaded = 0
    summary.status = "completed" if loading else "failed_strict"
    summary.blank_lines = stats.blank_lines
    summary.encoding_fallbacks = dict(stats.fallbacks)
    run.status = summary.status
    run.rows, run.loaded, run.quarantined = summary.rows, summary.loaded, summary.quarantined
    run.blank_lines = stats.blank_lines
    run.encoding_fallbacks = summary.encoding_fallbacks
    session.commit()
