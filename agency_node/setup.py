"""``fedlink node init``: create the node directory, its keys and a commented node.toml
mapped from the source's columns."""

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
    write_new_config,
)
from agency_node.errors import ConfigError
from agency_node.ingest.columns import (
    auto_map,
    check_header,
    infer_type,
    is_quasi_identifier,
    parse_value,
    parse_year,
    variable_name,
)
from agency_node.ingest.sources import SourceStats, open_source
from protocol.signing import describe_validation_error

_TYPE_ORDER = ("integer", "number", "boolean", "date", "string")


@dataclass
class InitResult:
    config: NodeConfig
    path: Path
    rows_scanned: int


class _ColumnScan:
    """Narrowest type every value of a column parses as, and the years it has values in."""

    def __init__(self) -> None:
        self.candidates = list(_TYPE_ORDER[:-1])
        self.years: set[int] = set()
        self.seen = False

    def add(self, text: str, year: int | None) -> None:
        if not text.strip():
            return
        self.seen = True
        if year is not None:
            self.years.add(year)
        if re.fullmatch(r"[+-]?0\d+", text.strip()):
            # Leading zeros (codes such as NAICS "0123" or a school "0042") are identifiers,
            # not numbers: keep them as text.
            self.candidates = [t for t in self.candidates if t not in ("integer", "number")]
        for type_ in list(self.candidates):
            try:
                parse_value(text, type_)
            except ValueError:
                self.candidates.remove(type_)

    @property
    def type(self) -> str:
        return self.candidates[0] if self.seen and self.candidates else infer_type([])


def init_node(node_dir: Path, *, agency: str, name: str, source: SourceSection) -> InitResult:
    """Scan the source, map its columns, write keys and node.toml. Refuses an existing node."""
    node_dir = Path(node_dir).expanduser().resolve()
    if config_path(node_dir).exists():
        raise ConfigError(f"{config_path(node_dir)} already exists; this node is initialised")
    stats = SourceStats()
    with open_source(source, stats) as (header, rows):
        check_header(header)
        record_id, identity, year_column, ignored, attributes = auto_map(header)
        scans = {column: _ColumnScan() for column in attributes}
        count = 0
        for raw in rows:
            if raw.values is None:
                continue
            count += 1
            year = parse_year(raw.values.get(year_column, "")) if year_column else None
            for column, scan in scans.items():
                scan.add(raw.values.get(column, ""), year)
    variables: dict[str, VariableSection] = {}
    for column in attributes:
        scan = scans[column]
        variables[variable_name(column, set(variables))] = VariableSection(
            column=column,
            description=f"{column} (from the agency source; describe it for researchers)",
            type=scan.type,  # type: ignore[arg-type]
            years=sorted(scan.years),
            quasi_identifier=column != year_column and is_quasi_identifier(column),
        )
    try:
        node = NodeSection(agency=agency, name=name)
    except ValidationError as exc:
        raise ConfigError(f"--agency/--name: {describe_validation_error(exc)}") from None
    try:
        config = NodeConfig(
            node=node,
            source=source,
            mapping=MappingSection(record_id=record_id, identity=identity,
                                   year_column=year_column, ignore=ignored),
            variables=variables,
        )
    except ValidationError as exc:
        raise ConfigError(f"cannot map the source: {describe_validation_error(exc)}") from None
    keys.ensure_private_dir(node_dir)
    keys.create_node_keys(node_dir)
    path = write_new_config(node_dir, config)
    return InitResult(config=config, path=path, rows_scanned=count)
