"""``fedlink node init``: create the node directory, its keys, a commented node.toml and
the reviewable ``mapping.toml``, mapped from the source's column names *and values*."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from agency_node import keys
from agency_node.config import (
    MappingSection,
    NodeConfig,
    NodeSection,
    SourceSection,
    VariableSection,
    config_path,
    read_config,
    write_new_config,
)
from agency_node.errors import ConfigError
from agency_node.ingest.columns import (
    check_header,
    is_missing,
    is_quasi_identifier,
    looks_like_code,
    parse_value,
    parse_year,
    variable_name,
)
from agency_node.ingest.detect import ColumnProfile, RepeatCounter
from agency_node.ingest.mapping_file import MAPPING_FILE, write_mapping_file
from agency_node.ingest.periods import parse_period
from agency_node.ingest.plan import Choices, Plan, build_plan, is_id_header
from agency_node.ingest.sensitivity import propose
from agency_node.ingest.sources import SourceStats, open_source
from protocol.signing import describe_validation_error

_TYPE_ORDER = ("integer", "number", "boolean", "date", "string")


@dataclass
class InitResult:
    config: NodeConfig
    path: Path
    rows_scanned: int
    plan: Plan
    mapping_file: Path


class _ColumnScan:
    """Narrowest type every value of a column parses as, and the years it has values in."""

    def __init__(self, column: str, date_order: str) -> None:
        self.column = column
        self.date_order = date_order
        self.candidates = list(_TYPE_ORDER[:-1])
        self.years: set[int] = set()
        self.seen = False
        self.sample: list[str] = []

    def add(self, text: str, year: int | None) -> None:
        if is_missing(text):
            return
        self.seen = True
        if year is not None:
            self.years.add(year)
        if len(self.sample) < 200:
            self.sample.append(text)
        if re.fullmatch(r"[+-]?0\d+", text.strip()):
            # Leading zeros (codes such as NAICS "0123" or a school "0042") are identifiers,
            # not numbers: keep them as text.
            self.candidates = [t for t in self.candidates if t not in ("integer", "number")]
        for type_ in list(self.candidates):
            try:
                parse_value(text, type_, date_order=self.date_order)
            except ValueError:
                self.candidates.remove(type_)

    @property
    def type(self) -> str:
        if not (self.seen and self.candidates):
            return "string"
        if self.candidates[0] in ("integer", "number") and looks_like_code(self.column,
                                                                          self.sample):
            return next((t for t in self.candidates if t not in ("integer", "number")),
                        "string")
        return self.candidates[0]


def _profile(source: SourceSection) -> tuple[list[str], dict[str, ColumnProfile], int]:
    """Pass 1: a bounded sample of every column's values."""
    with open_source(source, SourceStats()) as (header, rows):
        check_header(header)
        # Repeats are counted over the whole column only where they decide something: in
        # columns named like an id (the record id, or an agency person id).
        profiles = {column: ColumnProfile(repeats=RepeatCounter() if is_id_header(column)
                                          else None) for column in header}
        count = 0
        for raw in rows:
            if raw.values is None:
                continue
            count += 1
            for column, profile in profiles.items():
                profile.add(raw.values.get(column, ""))
    return header, profiles, count


def _scan(source: SourceSection, plan: Plan) -> dict[str, _ColumnScan]:
    """Pass 2: the type and years of every attribute, once the year column is known."""
    scans = {column: _ColumnScan(column, plan.date_order) for column in plan.attributes}
    with open_source(source, SourceStats()) as (_header, rows):
        for raw in rows:
            if raw.values is None:
                continue
            year = _row_year(raw.values, plan, source.date_order)
            for column, scan in scans.items():
                scan.add(raw.values.get(column, ""), year)
    return scans


def _row_year(values: dict[str, str], plan: Plan, date_order: str) -> int | None:
    """The row's year: the year column's, else the year its period starts in."""
    if plan.year_column:
        text = values.get(plan.year_column, "")
        return parse_year(text) if text else None
    if plan.period_column and not is_missing(text := values.get(plan.period_column, "")):
        try:
            return parse_period(text, date_order=date_order).year
        except ValueError:
            return None
    return None


def init_node(node_dir: Path, *, agency: str, name: str, source: SourceSection,
              choices: Choices | None = None, remap: bool = False) -> InitResult:
    """Profile the source, decide every column (:mod:`agency_node.ingest.plan`), write keys,
    node.toml and the reviewable mapping file. Refuses an existing node, unless ``remap``:
    then node.toml's source, mapping and variables are re-decided in place — keys, store,
    server and hub sections kept, and each variable the steward already described (same
    column) keeps its name, description, classification and labels."""
    node_dir = Path(node_dir).expanduser().resolve()
    previous = _previous(node_dir, agency=agency, remap=remap)
    choices = choices or Choices()
    header, profiles, count = _profile(source)
    plan = build_plan(header, profiles, choices)
    source = source.model_copy(update={"date_order": plan.date_order})
    scans = _scan(source, plan)
    kept = {v.column: (n, v) for n, v in previous.variables.items()} if previous else {}
    variables: dict[str, VariableSection] = {}
    for column in plan.attributes:
        scan = scans[column]
        overridden = column in plan.override
        quasi = overridden or (column not in (plan.year_column, plan.period_column)
                               and is_quasi_identifier(column))
        if column in kept:
            old_name, old = kept[column]
            variables[variable_name(old_name, set(variables))] = old.model_copy(update={
                "type": scan.type, "years": sorted(scan.years),
                "quasi_identifier": old.quasi_identifier or quasi})
            continue
        # Special education, health, benefits, … by name or values: proposed restricted
        # for the steward to confirm (docs/classification.md).
        proposal = propose(column, scan.sample)
        variables[variable_name(column, set(variables))] = VariableSection(
            column=column,
            description=f"{column} (from the agency source; describe it for researchers)",
            type=scan.type,  # type: ignore[arg-type]
            years=sorted(scan.years),
            classification="restricted" if proposal else "confidential",
            classification_reason=f"proposed by node init: {proposal.reason}"
            if proposal else "",
            quasi_identifier=quasi,
        )
    try:
        node = previous.node if previous else NodeSection(agency=agency, name=name)
    except ValidationError as exc:
        raise ConfigError(f"--agency/--name: {describe_validation_error(exc)}") from None
    try:
        mapping = MappingSection(record_id=plan.record_id, identity=plan.identity,
                                 year_column=plan.year_column, person_id=plan.person_id,
                                 period_column=plan.period_column, ignore=list(plan.ignore),
                                 overrides=plan.override,
                                 # The steward's declaration is not re-decided by a re-map.
                                 person_ids=previous.mapping.person_ids if previous
                                 else "unique")
        # Re-mapping keeps every other section as it is (validated again below).
        kept_sections = previous.model_dump(exclude={"source", "mapping", "variables"}) \
            if previous else {"node": node}
        config = NodeConfig.model_validate({**kept_sections, "source": source,
                                            "mapping": mapping, "variables": variables})
    except ValidationError as exc:
        raise ConfigError(f"cannot map the source: {describe_validation_error(exc)}") from None
    if previous is None:
        keys.ensure_private_dir(node_dir)
        keys.create_node_keys(node_dir)
    path = write_new_config(node_dir, config)
    mapping_file = write_mapping_file(node_dir / MAPPING_FILE, plan)
    _audit_init(node_dir, plan, remapped=previous is not None)
    return InitResult(config=config, path=path, rows_scanned=count, plan=plan,
                      mapping_file=mapping_file)


def _previous(node_dir: Path, *, agency: str, remap: bool) -> NodeConfig | None:
    """The node's current config when re-mapping; refuses init over an existing node."""
    exists = config_path(node_dir).exists()
    if not remap:
        if exists:
            raise ConfigError(f"{config_path(node_dir)} already exists; this node is "
                              "initialised (re-map it with --remap)")
        return None
    if not exists:
        raise ConfigError(f"--remap: no node in {node_dir} (run init without --remap)")
    previous = read_config(node_dir)
    if previous.node.agency != agency:
        raise ConfigError(f"--remap: this node is agency {previous.node.agency}, not {agency}")
    return previous


def _audit_init(node_dir: Path, plan: Plan, *, remapped: bool) -> None:
    """Every steward override in the node's audit log: the column and the reason, never a
    value (the store is created for it; a new node without overrides starts with none);
    a re-mapping, with what it decided (column names only)."""
    if not plan.override and not remapped:
        return
    from agency_node.runtime import NodeRuntime

    with NodeRuntime.open(node_dir) as runtime:
        if remapped:
            runtime.audit.append(actor="operator", typ="remap", outcome="mapped", details={
                "record_id": plan.record_id, "identity": plan.identity,
                "year_column": plan.year_column, "person_id": plan.person_id,
                "period_column": plan.period_column, "ignored": sorted(plan.ignore),
                "variables": plan.attributes})
        for column, reason in plan.override.items():
            runtime.audit.append(actor="steward", typ="column_override", outcome="offered",
                                 reason="identifying_column_offered",
                                 details={"column": column, "reason": reason,
                                          "flagged": plan.flagged.get(column, "")})
