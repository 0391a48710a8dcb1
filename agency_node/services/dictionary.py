"""The node's living data dictionary (docs/agency-node.md, "Data dictionary").

Names, descriptions and classifications come from ``node.toml`` (the steward owns them);
everything that depends on the data is recomputed from the node store, so it is current
after every ingest: the years each variable has values in, the share of each year's
records that have a value, and for coded variables their code list with counts — a count
below :data:`DICTIONARY_MIN_CELL` is never published (``None``). A description that is
empty or still the one ``node init`` generated is flagged as a placeholder until the
steward writes it.

The dictionary reaches the hub only as a node-signed :class:`protocol.wire.DictionaryUpdate`
(:func:`publish`), which replaces the agency's catalog there; it also carries the agency's
declaration about its person ids (``[mapping] person_ids``), which the hub's linkage runs
follow (docs/linkage-runs.md). The grain of the data
(:func:`grain`: persons, rows per person, periods — counts only, small ones suppressed) is
shown on the node by ``fedlink node dictionary show``; the wire message has no field for it
yet, so it is not published.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from agency_node import keys
from agency_node.config import NodeConfig, VariableSection
from agency_node.errors import ConfigError
from agency_node.hub_client import HubClient
from agency_node.person_facts import PersonFacts
from agency_node.runtime import NodeRuntime
from agency_node.store.records import iter_all_records
from protocol.signing import describe_validation_error, sign
from protocol.wire import (
    MAX_CODE_CHARS,
    MAX_CODES,
    CatalogVariable,
    CodeEntry,
    DictionaryUpdate,
    YearCompleteness,
)

#: Smallest count a published code list shows; the hub's default ``disclosure_min_cell``
#: (the hub suppresses again with its own setting, whichever is larger wins).
DICTIONARY_MIN_CELL: Final = 10
#: The last dictionary the hub accepted, kept to tell the steward what changed since.
PUBLISHED_FILE: Final = "dictionary-published.json"
#: What ``node init`` writes as a description (agency_node/setup.py): a placeholder.
_GENERATED_MARKER: Final = "describe it for researchers"
_CODED_TYPES: Final = ("string", "integer", "boolean")


def is_placeholder(name: str, variable: VariableSection) -> bool:
    """True while the description says nothing a researcher could use."""
    text = variable.description.strip()
    return (not text or _GENERATED_MARKER in text
            or text.lower() in {name.lower(), variable.column.lower()})


def catalog(config: NodeConfig) -> list[CatalogVariable]:
    """The dictionary from ``node.toml`` alone (years as configured, no data facts)."""
    return [
        CatalogVariable(
            name=name, description=var.description[:2000], type=var.type,
            years=tuple(var.years), classification=var.classification,
            quasi_identifier=var.quasi_identifier,
            description_placeholder=is_placeholder(name, var),
        )
        for name, var in config.variables.items()
    ]


@dataclass
class _Facts:
    """Running counts of one variable over the store (never kept beyond this module)."""

    present_by_year: Counter[int] = field(default_factory=Counter)
    values: Counter[str] = field(default_factory=Counter)
    too_many_codes: bool = False

    def add(self, value: Any, year: int | None) -> None:
        if value is None or (isinstance(value, str) and not value.strip()):
            return
        if year is not None:
            self.present_by_year[year] += 1
        if self.too_many_codes:
            return
        code = str(value).lower() if isinstance(value, bool) else str(value)
        if len(code) > MAX_CODE_CHARS:
            self.too_many_codes = True
            return
        self.values[code] += 1
        if len(self.values) > MAX_CODES:
            # Not a code list (or one too long to publish): stop counting, drop the values.
            self.too_many_codes = True
            self.values.clear()


def _codes(facts: _Facts, var: VariableSection, min_cell: int) -> tuple[CodeEntry, ...]:
    present = sum(facts.values.values())
    # A variable is "coded" when few distinct values each recur: a near-unique column
    # (every value once or twice) is no code list, and listing it would list its values.
    if (var.type not in _CODED_TYPES or facts.too_many_codes or not facts.values
            or present < 2 * len(facts.values)):
        return ()
    # A string's values are free text until the steward says otherwise (a school or a
    # case worker can be a name): only the codes the steward labelled in node.toml leave
    # the node. Integer and boolean codes cannot carry a name.
    listed = (facts.values.items() if var.type != "string"
              else [(code, n) for code, n in facts.values.items() if code in var.labels])
    return tuple(
        CodeEntry(code=code, label=var.labels.get(code, "")[:200],
                  count=count if count >= min_cell else None)
        for code, count in sorted(listed)
    )


def compute(config: NodeConfig, sessions: sessionmaker[Session], *,
            min_cell: int = DICTIONARY_MIN_CELL) -> tuple[CatalogVariable, ...]:
    """The current dictionary: ``node.toml`` overlaid with facts from the node store.

    Years come from the store's year column; a store without years (no ``year_column``,
    or nothing ingested yet) keeps the years configured in ``node.toml``.
    """
    facts = {name: _Facts() for name in config.variables}
    records_by_year: Counter[int] = Counter()
    with sessions() as session:
        for record in iter_all_records(session):
            if record.year is not None:
                records_by_year[record.year] += 1
            for name, fact in facts.items():
                fact.add(record.attributes.get(name), record.year)
    variables = []
    for base in catalog(config):
        var, fact = config.variables[base.name], facts[base.name]
        update: dict[str, Any] = {"codes": _codes(fact, var, min_cell)}
        if records_by_year:
            years = sorted(y for y in records_by_year if fact.present_by_year[y])
            update["years"] = tuple(years)
            # A year with fewer records than the threshold gets no share: 0 % or 100 % of
            # a handful of records says something about each of them.
            update["completeness"] = tuple(
                YearCompleteness(year=y, percent=100 * fact.present_by_year[y]
                                 // records_by_year[y])
                for y in sorted(records_by_year) if records_by_year[y] >= min_cell
            )
        variables.append(base.model_copy(update=update))
    try:
        return tuple(CatalogVariable.model_validate(v.model_dump()) for v in variables)
    except ValidationError as exc:
        raise ConfigError(f"the data dictionary is not valid: "
                          f"{describe_validation_error(exc)}") from None


def grain(config: NodeConfig, sessions: sessionmaker[Session], *,
          min_cell: int = DICTIONARY_MIN_CELL) -> dict[str, Any]:
    """What one row of the agency's data is: persons (by the mapped person id, else one per
    record), rows per person, periods by kind, persons with several identity versions.
    Counts below ``min_cell`` are None; no person id or identity value is in it."""
    facts = PersonFacts()
    with sessions() as session:
        for record in iter_all_records(session):
            facts.add(record_id=record.record_id, person_id=record.person_id,
                      period=record.period, period_kind=record.period_kind,
                      identity=record.identity)
    summary = facts.summary(min_cell=min_cell)
    summary.pop("rows_without_person_id")
    row = "one row per person per period" if config.mapping.period_column else "one row"
    summary["grain"] = (f"{row} (person = the agency's person id)" if config.mapping.person_id
                        else "one row per record (each record is its own person)")
    return summary


def placeholders(dictionary: tuple[CatalogVariable, ...]) -> list[str]:
    """Variables whose description the steward still has to write."""
    return [v.name for v in dictionary if v.description_placeholder]


def load_published(node_dir: Path) -> tuple[CatalogVariable, ...] | None:
    """The last dictionary the hub accepted, or None if none was published from here."""
    path = node_dir / PUBLISHED_FILE
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return tuple(CatalogVariable.model_validate(v) for v in data["dictionary"])
    except (ValueError, KeyError, TypeError, ValidationError):
        raise ConfigError(f"{path} is not a published dictionary; delete it and publish "
                          "again") from None


def published_person_ids(node_dir: Path) -> str | None:
    """The person-id declaration the hub last accepted from here (None: never published;
    a copy from before the declaration existed says ``"unique"``, what the hub assumed)."""
    path = node_dir / PUBLISHED_FILE
    if not path.exists():
        return None
    try:
        return str(json.loads(path.read_text(encoding="utf-8")).get("person_ids", "unique"))
    except (ValueError, AttributeError):
        return None


def save_published(node_dir: Path, update: DictionaryUpdate) -> None:
    """Keep what the hub accepted (at publication and at enrollment), 0600: code counts
    are aggregates, but still the agency's, not the world's."""
    keys.write_private(node_dir / PUBLISHED_FILE, update.model_dump_json(indent=2).encode(),
                       replace=True)


def changes(old: tuple[CatalogVariable, ...] | None,
            new: tuple[CatalogVariable, ...]) -> list[str]:
    """One line per difference a researcher would see (variables, years, descriptions…)."""
    if old is None:
        return ["never published from this node"]
    before, after = {v.name: v for v in old}, {v.name: v for v in new}
    lines = [f"{n}: added" for n in sorted(after.keys() - before.keys())]
    lines += [f"{n}: removed" for n in sorted(before.keys() - after.keys())]
    for name in sorted(before.keys() & after.keys()):
        was, now = before[name], after[name]
        if was.years != now.years:
            lines.append(f"{name}: years {_span(was.years)} → {_span(now.years)}")
        for attr in ("description", "type", "classification", "quasi_identifier"):
            if getattr(was, attr) != getattr(now, attr):
                lines.append(f"{name}: {attr} changed")
        if was.codes != now.codes or was.completeness != now.completeness:
            lines.append(f"{name}: code list or completeness changed")
    return lines


def _span(years: tuple[int, ...]) -> str:
    return ", ".join(map(str, years)) if years else "none"


@dataclass(frozen=True)
class Published:
    agency: str
    variables: int
    placeholders: list[str]
    changes: list[str]


def publish(runtime: NodeRuntime, client: HubClient, *,
            now: dt.datetime | None = None) -> Published:
    """Sign the current dictionary with the node key and send it to the hub, which
    replaces this agency's catalog; keep a copy and audit the publication."""
    settings = runtime.settings
    dictionary = compute(settings.node, runtime.sessions)
    published_at = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    update = DictionaryUpdate(agency=settings.agency, published_at=published_at,
                              dictionary=dictionary,
                              person_ids=settings.node.mapping.person_ids)
    envelope = sign(update, typ=DictionaryUpdate.TYP,
                    private_key=keys.load_signing_key(settings.dir))
    diff = changes(load_published(settings.dir), dictionary)
    before = published_person_ids(settings.dir)
    if before is not None and before != update.person_ids:
        diff.insert(0, f"person ids: {before} → {update.person_ids}")
    client.publish_dictionary(envelope.to_json())
    save_published(settings.dir, update)
    runtime.audit.append(actor="steward", typ="dictionary_publish", outcome="published",
                         details={"variables": len(dictionary), "nonce": envelope.nonce,
                                  "person_ids": update.person_ids,
                                  "placeholders": len(placeholders(dictionary))})
    return Published(agency=settings.agency, variables=len(dictionary),
                     placeholders=placeholders(dictionary), changes=diff)
