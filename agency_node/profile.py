"""The steward's data-quality profile of the node store.

For each mapped identity field: completeness (usable / all records), validity (usable /
records where the raw value was non-empty) and the missing reasons; duplicate local ids
and every other quarantine reason from the latest ingest; likely duplicate persons (same
normalised first name, last name and birth date under different local ids); the value
distribution of each attribute variable; and the agency's persons and periods
(:mod:`agency_node.person_facts`: counts only) with the person ids the latest ingest found
reused. Shown only on the node — it names local ids.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text
from sqlalchemy.orm import Session, sessionmaker

from agency_node.config import NodeConfig
from agency_node.person_facts import PersonFacts
from agency_node.store.ingest_runs import latest_run, quarantine_of
from agency_node.store.records import iter_all_records

_DISTINCT_CAP = 10_000
_TOP = 10


def _pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


class _Distribution:
    def __init__(self, type_: str) -> None:
        self.type = type_
        self.nulls = 0
        self.values: Counter[str] = Counter()
        self.overflow = False
        self.non_null = 0
        self.n = 0
        self.total = 0.0
        self.low: float | None = None
        self.high: float | None = None

    def add(self, value: Any) -> None:
        if value is None:
            self.nulls += 1
            return
        self.non_null += 1
        if self.type in ("integer", "number") and not isinstance(value, bool):
            self.n += 1
            self.total += value
            self.low = value if self.low is None else min(self.low, value)
            self.high = value if self.high is None else max(self.high, value)
        key = str(value)
        if key in self.values or len(self.values) < _DISTINCT_CAP:
            self.values[key] += 1
        else:
            self.overflow = True

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": self.type,
            "non_null": self.non_null,
            "null": self.nulls,
            "distinct": f">={_DISTINCT_CAP}" if self.overflow else len(self.values),
            "top": [[value, count] for value, count in self.values.most_common(_TOP)],
        }
        if self.n:
            out.update(min=self.low, max=self.high, mean=round(self.total / self.n, 3))
        return out


def build_profile(config: NodeConfig, sessions: sessionmaker[Session]) -> dict[str, Any]:
    """The profile as plain JSON-able data."""
    mapped = list(config.mapping.identity)
    present: Counter[str] = Counter()
    raw_nonempty: Counter[str] = Counter()
    # Usable among the non-empty raw values only: a field can be present without a raw
    # value of its own (a suffix split off "SMITH JR"), and validity must stay <= 100 %.
    valid: Counter[str] = Counter()
    reasons: dict[str, Counter[str]] = {f: Counter() for f in mapped}
    # Same name and birth date → {person (its person id, else the record) → a record id}:
    # rows of one person are not duplicates of each other, two person ids are.
    people: dict[tuple[Any, Any, Any], dict[str, str]] = {}
    distributions = {name: _Distribution(v.type) for name, v in config.variables.items()}
    persons = PersonFacts()
    total = 0
    with sessions() as session:
        for record in iter_all_records(session):
            total += 1
            identity = record.identity
            for fld in mapped:
                has_raw = bool(str(record.raw_identity.get(fld) or "").strip())
                raw_nonempty[fld] += has_raw
                if has_raw and identity.get(fld) is not None:
                    valid[fld] += 1
                if identity.get(fld) is not None:
                    present[fld] += 1
                else:
                    reasons[fld][identity.get("problems", {}).get(fld, "absent")] += 1
            key = (identity.get("first_name"), identity.get("last_name"), identity.get("dob"))
            if all(key):
                ids = people.setdefault(key, {})
                person = record.person_id if record.person_id is not None \
                    else "\0" + record.record_id
                if len(ids) < 5 and person not in ids:
                    ids[person] = record.record_id
            for name, dist in distributions.items():
                dist.add(record.attributes.get(name))
            persons.add(record_id=record.record_id, person_id=record.person_id,
                        period=record.period, period_kind=record.period_kind,
                        identity=identity)
        run = latest_run(session)
        quarantine = quarantine_of(session, run_id=run.id) if run else []
    groups = [list(ids.values()) for ids in people.values() if len(ids) > 1]
    fields = {
        fld: {
            "column": config.mapping.identity[fld],
            "present": present[fld],
            "completeness_pct": _pct(present[fld], total),
            "validity_pct": _pct(valid[fld], raw_nonempty[fld]),
            "missing": dict(reasons[fld].most_common()),
        }
        for fld in mapped
    }
    duplicate_rows = [
        {"row": q.row_number, "detail": q.detail}
        for q in quarantine
        if q.reason == "duplicate_record_id"
    ]
    return {
        "agency": config.node.agency,
        "records": total,
        "latest_ingest": None if run is None else {
            "run": run.id, "started_at": run.started_at, "status": run.status, "rows": run.rows,
            "loaded": run.loaded, "quarantined": run.quarantined,
            "lines": run.accounting or {}, "failure": run.failure or "",
            "encoding_fallbacks": run.encoding_fallbacks,
            "reasons": dict(Counter(q.reason for q in quarantine).most_common()),
        },
        "identity_fields": fields,
        "duplicate_record_ids": duplicate_rows,
        "likely_duplicate_persons": {"groups": len(groups), "examples": groups[:_TOP]},
        "attributes": {name: dist.summary() for name, dist in distributions.items()},
        "persons": {
            "person_id_column": config.mapping.person_id,
            "period_column": config.mapping.period_column,
            **persons.summary(),
            "reused_person_ids": (run.reused_person_ids or 0) if run else 0,
            "reused_person_id_rows": sum(1 for q in quarantine
                                         if q.reason == "reused_person_id"),
        },
    }


def lines_text(lines: Mapping[str, int]) -> str:
    """'1000 = 1 header + 998 loaded + 1 quarantined' (zero parts left out)."""
    parts = [f"{lines[k]} {k}" for k in ("header", "blank", "loaded", "quarantined", "refused")
             if lines.get(k)]
    return f"{lines.get('lines', 0)} = " + " + ".join(parts or ["0"])


def _num(value: float | None) -> str:
    return "-" if value is None else str(value)


def _row(table: Table, *cells: object) -> None:
    # Text cells are never parsed as rich markup: values like "[/x]" print as they are.
    table.add_row(*(Text(str(cell)) for cell in cells))


def render_profile(profile: dict[str, Any], out: Console) -> None:
    """Rich tables of :func:`build_profile`'s result (store values are never markup)."""

    def console_print(line: str) -> None:
        out.print(Text(line))

    console_print(f"{profile['agency']}: {profile['records']} records in the store")
    ingest = profile["latest_ingest"]
    if ingest:
        console_print(
            f"latest ingest #{ingest['run']} ({ingest['status']}, {ingest['started_at']}): "
            f"{ingest['loaded']} loaded, {ingest['quarantined']} quarantined of {ingest['rows']}"
            f" rows; quarantine reasons: {ingest['reasons'] or 'none'}"
        )
        if ingest.get("lines"):
            console_print("  source lines: " + lines_text(ingest["lines"]))
        if ingest.get("failure"):
            console_print(f"  failure: {ingest['failure']}")
    table = Table(title="Identity fields")
    for heading in ("field", "column", "present", "complete %", "valid %", "missing reasons"):
        table.add_column(heading)
    for fld, info in profile["identity_fields"].items():
        missing = ", ".join(f"{k}: {v}" for k, v in info["missing"].items()) or "-"
        _row(table, fld, info["column"], info["present"], _num(info["completeness_pct"]),
             _num(info["validity_pct"]), missing)
    out.print(table)
    dups = profile["duplicate_record_ids"]
    console_print(f"duplicate local ids in the latest ingest: {len(dups)}")
    for dup in dups[:_TOP]:
        console_print(f"  row {dup['row']}: {dup['detail']}")
    likely = profile["likely_duplicate_persons"]
    console_print(f"likely duplicate persons (same name + birth date): {likely['groups']} groups")
    for ids in likely["examples"]:
        console_print(f"  local ids {', '.join(ids)}")
    _render_persons(profile["persons"], console_print)
    attrs = Table(title="Attribute variables")
    for heading in ("variable", "type", "non-null", "null", "distinct", "top values / range"):
        attrs.add_column(heading)
    for name, info in profile["attributes"].items():
        if "min" in info:
            spread = f"min {info['min']}, max {info['max']}, mean {info['mean']}"
        else:
            spread = ", ".join(f"{v} ({n})" for v, n in info["top"][:5])
        _row(attrs, name, info["type"], info["non_null"], info["null"], info["distinct"], spread)
    out.print(attrs)


def _render_persons(persons: dict[str, Any], console_print: Any) -> None:
    """Persons and periods: counts only (no person id, no identity value)."""
    spread = persons["rows_per_person"]
    source = (f"person id {persons['person_id_column']!r}" if persons["person_id_column"]
              else "no person id column: each record is its own person")
    console_print(f"persons: {persons['persons']} ({source}); rows per person min "
                  f"{spread['min']}, median {spread['median']}, max {spread['max']}; "
                  f"{persons['persons_with_several_identity_versions']} with more than one "
                  "identity version (name, birth date or address)")
    if persons["person_id_column"]:
        console_print(f"reused person ids in the latest ingest: {persons['reused_person_ids']}"
                      f" ({persons['reused_person_id_rows']} rows quarantined, never merged)")
    for period in persons["periods"]:
        console_print(f"periods ({period['kind']}): {period['first']} to {period['last']}, "
                      f"{period['rows']} rows")
    if persons["period_column"] and persons["rows_without_period"]:
        console_print(f"rows without a period: {persons['rows_without_period']}")
