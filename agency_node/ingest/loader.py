"""Loading the source into the node store: check every row, upsert the good ones by local
id, quarantine the others with row number, line span, column and reason.

A row is unusable when it is structurally broken (ragged, unparseable quoting), holds
bytes no configured encoding decodes, has no or a repeated ``record_id``, has a field
over ``max_field_length``, has no usable identity field at all, or has an attribute (or
year, or period) that does not parse as its declared type, or carries a person id that
clearly different people share (:mod:`agency_node.ingest.persons`). ``strict`` loads
nothing if any row is unusable, but still records the quarantine so the steward sees why.

Every physical line of a CSV is accounted for: header + blank + loaded + quarantined +
refused (good rows not loaded because ``strict`` failed) = the file's lines; the run
stores this in ``accounting``. A run *fails loudly* (:meth:`IngestSummary.raise_for_failure`,
non-zero exit) when nothing loads or more than ``source.max_quarantine_pct`` of the data
lines are quarantined — the good rows are still loaded, so the steward can look at
``node profile``. The run is committed in one transaction: a write error (full disk)
keeps nothing, marks the run ``failed`` and audits it. A run killed mid-way stays
``running`` and unaudited; the next ingest marks it ``interrupted`` and audits it
(:mod:`agency_node.ingest.runs`).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from agency_node.config import NodeConfig
from agency_node.errors import IngestError, SourceError
from agency_node.ingest.columns import check_header, is_missing, parse_value, parse_year
from agency_node.ingest.periods import parse_period
from agency_node.ingest.persons import PersonIds, find_reused_ids
from agency_node.ingest.runs import exclusive_ingest, finish_audit, settle_unaudited
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
#: Rows between two calls of the ``progress`` callback of :func:`run_ingest`.
PROGRESS_EVERY = 200


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
    #: Where every physical line went: lines, header, blank, loaded, quarantined, refused.
    accounting: Counter[str] = field(default_factory=Counter)
    encoding: str = "utf-8"
    #: Earlier runs found unaudited at start (killed mid-way) and audited now.
    interrupted_runs: list[int] = field(default_factory=list)
    #: Why the run counts as failed ('' = it did not); see :meth:`raise_for_failure`.
    failure: str = ""
    #: Person ids clearly different people share (all their rows quarantined).
    reused_person_ids: int = 0

    def raise_for_failure(self) -> None:
        """Raise IngestError (code = the run's status) when the run failed loudly."""
        if self.failure:
            raise IngestError(self.failure, code=self.status)


class _RowChecker:
    def __init__(self, config: NodeConfig, run_id: int, reused: set[str] | None = None) -> None:
        self.config = config
        self.run_id = run_id
        self.seen: dict[str, int] = {}
        self.options = NormalizationOptions(date_order=config.source.date_order)
        self.persons = PersonIds(config.mapping.person_id, reused or set())

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
        if mapping.year_column and not is_missing(values.get(mapping.year_column, "")):
            year = parse_year(values[mapping.year_column])
            if year is None:
                problems.append(Problem(mapping.year_column, "bad_year",
                                        "expected a year such as 2019, 2019-20, FY2016 or a "
                                        "date"))
        person_id = self.persons.check(values, problems)
        period = None
        if mapping.period_column and not is_missing(values.get(mapping.period_column, "")):
            try:
                period = parse_period(values[mapping.period_column],
                                      date_order=self.config.source.date_order)
            except ValueError as exc:
                problems.append(Problem(mapping.period_column, "bad_period", str(exc)))
        if period is not None and not mapping.year_column:
            year = period.year  # the period scopes requests when no year column does
        attributes: dict[str, Any] = {}
        order = self.config.source.date_order
        for name, var in self.config.variables.items():
            try:
                attributes[name] = parse_value(values.get(var.column, ""), var.type,
                                               date_order=order)
            except ValueError as exc:
                problems.append(Problem(var.column, "bad_attribute_type",
                                        f"{var.type}: {exc}"))
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
            "person_id": person_id,
            "period": period.value if period else None,
            "period_kind": period.kind if period else None,
            "source_row": raw.row_number,
            "encoding": raw.encoding,
            "ingest_run_id": self.run_id,
        }, []


def _required_columns(config: NodeConfig) -> list[str]:
    mapping = config.mapping
    columns = [mapping.record_id, *mapping.identity.values()]
    columns += [v.column for v in config.variables.values()]
    columns += [c for c in (mapping.year_column, mapping.person_id, mapping.period_column) if c]
    return columns


def run_ingest(
    config: NodeConfig,
    sessions: sessionmaker[Session],
    audit: AuditLog,
    *,
    strict: bool = False,
    max_quarantine_pct: float | None = None,
    lock_dir: Path | None = None,
    now: dt.datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> IngestSummary:
    """Load the configured source.

    Raises IngestError when ``strict`` and a row is bad, or when the store cannot be
    written; SourceError when the source cannot be read at all (the run is then ``failed``
    and audited). A run that loads nothing or quarantines more than ``max_quarantine_pct``
    (default: ``source.max_quarantine_pct``) of its data lines returns with ``failure``
    set — call :meth:`IngestSummary.raise_for_failure`. ``lock_dir`` holds the lock that
    keeps two ingests of one node apart (the CLI passes the node directory). ``progress``
    is called with the number of source rows read so far, every :data:`PROGRESS_EVERY`
    rows and once at the end (the CLI's progress bar)."""
    limit = config.source.max_quarantine_pct if max_quarantine_pct is None else max_quarantine_pct
    with exclusive_ingest(lock_dir):
        interrupted = settle_unaudited(sessions, audit)
        summary = _run(config, sessions, audit, strict=strict, limit=limit, now=now,
                       progress=progress)
    summary.interrupted_runs = interrupted
    if summary.status == "failed_strict":
        raise IngestError(summary.failure, code="failed_strict")
    return summary


def _run(
    config: NodeConfig, sessions: sessionmaker[Session], audit: AuditLog, *, strict: bool,
    limit: float, now: dt.datetime | None, progress: Callable[[int], None] | None = None,
) -> IngestSummary:
    started = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
    source_name = describe(config.source)
    stats = SourceStats()
    with sessions() as session:
        run = start_run(session, started_at=started, source=source_name, strict=strict)
        session.commit()
        summary = IngestSummary(run_id=run.id, source=source_name, status="running", strict=strict)
        try:
            _load(config, session, run, summary, stats, strict=strict, progress=progress)
            _judge(summary, limit)
            _record(run, summary, stats)
            session.commit()
        except SourceError as exc:
            _fail(sessions, session, run, audit, reason=exc.code, failure=str(exc))
            raise
        except SQLAlchemyError as exc:
            # A full disk or a broken store: the transaction keeps nothing of this run.
            why = _first_line(exc)
            _fail(sessions, session, run, audit, reason="write_failed", failure=why)
            raise IngestError(f"ingest #{run.id} could not write the node store ({why}); "
                              "nothing from this run was kept", code="write_failed") from None
        except OSError as exc:  # the source file failed mid-read (I/O error, removed disk)
            why = f"the source could not be read: {exc.strerror or type(exc).__name__}"
            _fail(sessions, session, run, audit, reason="source_unreadable", failure=why)
            raise SourceError(why) from None
        summary.records_in_store = count_records(session)
    details = {"run": summary.run_id, "rows": summary.rows, "loaded": summary.loaded,
               "quarantined": summary.quarantined, "reasons": dict(summary.reasons),
               "lines": dict(summary.accounting)}
    if summary.reused_person_ids:  # a count: the ids themselves never leave the store
        details["reused_person_ids"] = summary.reused_person_ids
    if not finish_audit(sessions, audit, run_id=summary.run_id, outcome=summary.status,
                        reason=summary.status if summary.failure else "", details=details):
        raise IngestError(f"ingest #{summary.run_id} loaded {summary.loaded} rows but its audit "
                          "event could not be written (is the disk full?); the next ingest "
                          "writes it", code="audit_failed")
    return summary


def _first_line(exc: SQLAlchemyError) -> str:
    """The driver's message alone: SQLAlchemy appends the statement and its parameters
    (identity values) on the following lines, which must not reach a log or the audit."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).splitlines()[0][:200] if str(orig) else ""
    return f"{type(orig).__name__}: {text}"


def _fail(sessions: sessionmaker[Session], session: Session, run: IngestRun, audit: AuditLog,
          *, reason: str, failure: str) -> None:
    """Mark ``run`` failed and audit it; if even that cannot be written, the run stays
    ``running`` and the next ingest marks it interrupted and audits it."""
    session.rollback()
    run_id = run.id
    try:
        run.status, run.failure = "failed", failure
        run.finished_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        session.commit()
    except (SQLAlchemyError, OSError):
        session.rollback()
        return
    finish_audit(sessions, audit, run_id=run_id, outcome="failed", reason=reason,
                 details={"run": run_id, "failure": failure})


def _judge(summary: IngestSummary, limit: float) -> None:
    """Set status and failure: strict, nothing loaded, or too much quarantined."""
    lines = summary.accounting
    data_lines = lines["loaded"] + lines["quarantined"] + lines["refused"]
    share = 100.0 * lines["quarantined"] / data_lines if data_lines else 0.0
    if summary.status == "failed_strict":
        summary.failure = (f"--strict: {summary.quarantined} of {summary.rows} rows are "
                           f"unusable ({_reason_list(summary.reasons)}); nothing was loaded — "
                           "see `fedlink node profile`")
    elif summary.rows == 0:
        raise SourceError("the source has a header but no data rows: nothing to load")
    elif summary.loaded == 0:
        summary.status = "nothing_loaded"
        summary.failure = (f"nothing was loaded: all {summary.rows} rows are unusable "
                           f"({_reason_list(summary.reasons)}) — see `fedlink node profile`")
    elif share > limit:
        summary.status = "over_quarantine_limit"
        summary.failure = (f"{share:.1f}% of the data lines were quarantined, over the "
                           f"{limit:g}% limit ({_reason_list(summary.reasons)}); the "
                           f"{summary.loaded} good rows are loaded — see `fedlink node profile`")
    else:
        summary.status = "completed"
    unaccounted = lines["lines"] - sum(lines[k] for k in
                                       ("header", "blank", "loaded", "quarantined", "refused"))
    if unaccounted:  # a parser bug must not pass as a clean run
        summary.status = "failed_accounting"
        summary.failure = f"{unaccounted} source lines are not accounted for"


def _record(run: IngestRun, summary: IngestSummary, stats: SourceStats) -> None:
    run.status = summary.status
    run.rows, run.loaded, run.quarantined = summary.rows, summary.loaded, summary.quarantined
    run.blank_lines = stats.blank_lines
    run.encoding_fallbacks = summary.encoding_fallbacks
    run.lines = summary.accounting["lines"]
    run.accounting = dict(summary.accounting)
    run.failure = summary.failure
    run.reused_person_ids = summary.reused_person_ids
    run.finished_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


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
    progress: Callable[[int], None] | None = None,
) -> None:
    loading = True
    pending: list[dict[str, Any]] = []
    quarantine: list[dict[str, Any]] = []
    lines = summary.accounting
    # A read of the source before the load: a reused person id is known before its first
    # row would be loaded (empty without a person id column).
    reused = find_reused_ids(config)
    summary.reused_person_ids = len(reused)
    with open_source(config.source, stats) as (header, rows):
        check_header(header)
        missing = [c for c in _required_columns(config) if c not in header]
        if missing:
            raise SourceError(f"the source has no column {', '.join(map(repr, missing))} "
                              f"named in node.toml (read as {stats.encoding})")
        checker = _RowChecker(config, run.id, reused)
        for raw in rows:
            summary.rows += 1
            if progress is not None and summary.rows % PROGRESS_EVERY == 0:
                progress(summary.rows)
            record, problems = checker.check(raw)
            if problems:
                summary.quarantined += 1
                lines["quarantined"] += raw.lines
                if strict and loading:
                    session.rollback()  # discard everything loaded so far
                    pending.clear()
                    loading = False
                    lines["refused"] += lines["loaded"]
                    lines["loaded"] = 0
                for p in problems:
                    summary.reasons[p.reason] += 1
                    entry = {"row_number": raw.row_number, "line_number": raw.line_number,
                             "line_end": raw.line_end, "column": p.column, "reason": p.reason,
                             "detail": p.detail}
                    quarantine.append(entry)
                    if len(summary.sample) < 20:
                        summary.sample.append(entry)
            elif loading and record is not None:
                pending.append(record)
                summary.loaded += 1
                lines["loaded"] += raw.lines
            else:
                lines["refused"] += raw.lines
            if len(pending) >= _BATCH:
                upsert_records(session, rows=pending)
                pending.clear()
            if len(quarantine) >= _BATCH:
                add_quarantine(session, run_id=run.id, entries=quarantine)
                quarantine.clear()
    if progress is not None and (summary.rows == 0 or summary.rows % PROGRESS_EVERY):
        progress(summary.rows)  # the tail since the last report
    if pending:
        upsert_records(session, rows=pending)
    add_quarantine(session, run_id=run.id, entries=quarantine)
    if not loading:
        summary.loaded = 0
        summary.status = "failed_strict"
    summary.blank_lines = stats.blank_lines
    summary.encoding_fallbacks = dict(stats.fallbacks)
    summary.encoding = stats.encoding
    lines.update(lines=stats.lines, header=stats.header_lines, blank=stats.blank_lines)
