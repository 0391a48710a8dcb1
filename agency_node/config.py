"""``node.toml``: what agency IT maps and what the steward edits.

The file is written once by ``fedlink node init`` (with comments, via tomlkit) and read by
every other command. :class:`NodeConfig` is its validated shape; :func:`read_config` turns
any problem into a one-line :class:`~agency_node.errors.ConfigError`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import tomlkit
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from tomlkit.exceptions import TOMLKitError

from agency_node.errors import ConfigError
from agency_node.ingest.plan import header_field
from protocol.identifier_names import identifier_reason
from protocol.identity import DIRECT_IDENTIFIERS, IDENTITY_FIELDS
from protocol.signing import describe_validation_error
from protocol.wire import PersonIds

CONFIG_FILE = "node.toml"
#: Same rule as protocol.wire.VariableName, so every configured name can go on the wire.
VARIABLE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
CLASSIFICATIONS = ("public", "internal", "confidential", "restricted")
VARIABLE_TYPES = ("string", "integer", "number", "boolean", "date")
DEFAULT_MAX_MATCH_REQUEST_BYTES = 1024 * 1024
DEFAULT_MAX_EXTRACT_REQUEST_BYTES = 64 * 1024 * 1024

Classification = Literal["public", "internal", "confidential", "restricted"]
VariableType = Literal["string", "integer", "number", "boolean", "date"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NodeSection(_Section):
    agency: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")
    name: str = Field(min_length=1)


class SourceSection(_Section):
    kind: Literal["csv", "sql"]
    path: str = ""
    url: str = ""
    table: str = ""
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    encodings: list[str] = Field(default_factory=lambda: ["utf-8", "cp1252"], min_length=1)
    max_field_length: int = Field(default=1000, ge=1)
    date_order: Literal["MDY", "DMY"] = "MDY"
    #: Ingest exits non-zero when more than this share of data lines is quarantined.
    max_quarantine_pct: float = Field(default=10.0, ge=0, le=100)

    @model_validator(mode="after")
    def _located(self) -> SourceSection:
        if self.kind == "csv" and not self.path:
            raise ValueError("a csv source needs a path")
        if self.kind == "sql" and not (self.url and self.table):
            raise ValueError("a sql source needs a url and a table")
        return self


class MappingSection(_Section):
    record_id: str = Field(min_length=1)
    identity: dict[str, str] = Field(default_factory=dict)
    year_column: str = ""
    #: The agency's person id (a state student id, a UI claimant id): rows sharing it are
    #: one person. '' = none, each row is its own person.
    person_id: str = ""
    #: Whether the agency trusts its person ids (protocol.wire.PersonIds): "unique" (one
    #: person, one id: linked one-to-one) or "may_duplicate" (a person may hold two ids:
    #: the hub also deduplicates this agency's records in every run). Sent to the hub at
    #: enrollment and with every dictionary update.
    person_ids: PersonIds = "unique"
    #: The period of a longitudinal row (year, school year, term, quarter or date),
    #: parsed and normalised at ingest (agency_node/ingest/periods.py). '' = none.
    period_column: str = ""
    ignore: list[str] = Field(default_factory=list)
    #: Steward overrides: identifying columns offered as variables anyway (column → reason),
    #: decided at `fedlink node init` and audited there.
    overrides: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _canonical(self) -> MappingSection:
        unknown = sorted(set(self.identity) - set(IDENTITY_FIELDS))
        if unknown:
            raise ValueError(f"not identity fields: {', '.join(unknown)}")
        if not self.identity:
            raise ValueError("no column is mapped to an identity field")
        if self.person_id and self.person_id in {self.record_id, *self.identity.values(),
                                                 self.period_column, *self.ignore}:
            raise ValueError(f"person_id column {self.person_id!r} is mapped to something "
                             "else as well")
        return self


class VariableSection(_Section):
    column: str = Field(min_length=1)
    description: str = ""
    type: VariableType = "string"
    years: list[int] = Field(default_factory=list)
    classification: Classification = "confidential"
    #: Why ``node init`` proposed this classification (agency_node/ingest/sensitivity.py);
    #: the steward confirms it by keeping it, or changes both (docs/classification.md).
    classification_reason: str = Field(default="", max_length=500)
    quasi_identifier: bool = False
    #: Labels of a coded variable's codes, written by the steward (code → label); published
    #: in the data dictionary (agency_node/services/dictionary.py).
    labels: dict[str, str] = Field(default_factory=dict)


class StoreSection(_Section):
    url: str = ""


class ServerSection(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8101, ge=1, le=65535)
    max_match_request_bytes: int = Field(default=DEFAULT_MAX_MATCH_REQUEST_BYTES, ge=1024)
    max_extract_request_bytes: int = Field(default=DEFAULT_MAX_EXTRACT_REQUEST_BYTES, ge=1024)
    #: TLS of the node's listener (`fedlink pki issue`); paths relative to the node directory.
    ssl_certfile: str = ""
    ssl_keyfile: str = ""
    #: Plain http off loopback (serving, or an http:// hub): a demo or tests only.
    allow_insecure_http: bool = False


class HubSection(_Section):
    url: str = ""
    signing_kid: str = ""
    hpke_kid: str = ""
    #: The assembly role's HPKE key pinned at enrollment: extract payloads are sealed to it
    #: alone ('' = none pinned, extracts refused).
    assembly_kid: str = ""
    #: The assembly role's signing key pinned at enrollment: the only key extract requests
    #: are accepted from (match requests: the hub signing key only; '' = none pinned).
    assembly_signing_kid: str = ""
    #: CA bundle that verifies the hub's certificate ('' = the system trust store).
    ca_file: str = ""


class NodeConfig(_Section):
    node: NodeSection
    source: SourceSection
    mapping: MappingSection
    variables: dict[str, VariableSection] = Field(default_factory=dict)
    store: StoreSection = Field(default_factory=StoreSection)
    server: ServerSection = Field(default_factory=ServerSection)
    hub: HubSection = Field(default_factory=HubSection)

    @model_validator(mode="after")
    def _variable_names(self) -> NodeConfig:
        for name in self.variables:
            if not VARIABLE_NAME.fullmatch(name):
                raise ValueError(f"variable name {name!r} must match {VARIABLE_NAME.pattern}")
            if name.lower() in DIRECT_IDENTIFIERS:
                raise ValueError(f"variable {name!r} is named like an identity field")
        identity_columns = {self.mapping.record_id, *self.mapping.identity.values()}
        if self.mapping.person_id:  # an agency identifier: it never leaves the node
            identity_columns.add(self.mapping.person_id)
        for name, variable in self.variables.items():
            if variable.column in identity_columns:
                raise ValueError(f"variable {name!r} reads identity column {variable.column!r}")
            if variable.column in self.mapping.ignore:
                raise ValueError(f"variable {name!r} reads ignored column {variable.column!r}")
            # A header that names an identity field or an identifier (FIRST_NM, phone,
            # guardian_name) is offered only with a steward override recorded at init.
            looks = header_field(variable.column) or identifier_reason(variable.column)
            if looks and variable.column not in self.mapping.overrides:
                raise ValueError(f"variable {name!r} reads {variable.column!r}, named like "
                                 f"a {looks}; map it, or offer it with a steward override")
        return self


def config_path(node_dir: Path) -> Path:
    return Path(node_dir) / CONFIG_FILE


def read_config(node_dir: Path) -> NodeConfig:
    """Load and validate ``DIR/node.toml``; any problem is one ConfigError sentence."""
    path = config_path(node_dir)
    if not Path(node_dir).is_dir():
        raise ConfigError(f"node directory {node_dir} does not exist (run `fedlink node init`)")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path} not found (run `fedlink node init`)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} cannot be read: {exc}") from None
    try:
        data = tomlkit.parse(text).unwrap()
    except TOMLKitError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    try:
        return NodeConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {describe_validation_error(exc)}") from None


def render_config(config: NodeConfig) -> str:
    """The commented TOML ``fedlink node init`` writes."""
    doc = tomlkit.document()
    doc.add(tomlkit.comment("Fedlink agency node. Written by `fedlink node init`; agency IT and"))
    doc.add(tomlkit.comment("the data steward edit it. Identity values never leave this node."))
    doc.add(tomlkit.nl())

    node = tomlkit.table()
    node.add("agency", config.node.agency)
    node.add("name", config.node.name)
    doc.add("node", node)

    source = tomlkit.table()
    source.add(tomlkit.comment("kind = csv (path) or sql (url + table, any SQLAlchemy URL)"))
    for key, value in config.source.model_dump().items():
        source.add(key, value)
    source["encodings"].comment("tried in order per field; latin-1 accepts any byte")
    source["max_field_length"].comment("longer fields quarantine the row")
    source["max_quarantine_pct"].comment("ingest exits non-zero above this % quarantined")
    source["date_order"].comment("how ambiguous dates like 03/07/2004 are read")
    doc.add("source", source)

    mapping = tomlkit.table()
    mapping.add(tomlkit.comment("local column names; identity values stay in clear only here"))
    mapping.add("record_id", config.mapping.record_id)
    mapping.add("year_column", config.mapping.year_column)
    mapping["year_column"].comment("one row per record; its year scopes requests ('' = none)")
    mapping.add("person_id", config.mapping.person_id)
    mapping["person_id"].comment("agency person id: rows sharing it are one person ('' = none)")
    mapping.add("person_ids", config.mapping.person_ids)
    mapping["person_ids"].comment("unique, or may_duplicate when one person may hold two "
                                  "ids (the hub then deduplicates)")
    mapping.add("period_column", config.mapping.period_column)
    mapping["period_column"].comment("year, school year, term, quarter or date of each row "
                                     "('' = none)")
    mapping.add("ignore", config.mapping.ignore)
    mapping["ignore"].comment("columns never loaded (reasons: mapping.toml)")
    if config.mapping.overrides:
        overrides = tomlkit.table()
        overrides.add(tomlkit.comment("identifying columns offered anyway: column = reason"))
        for column, reason in config.mapping.overrides.items():
            overrides.add(column, reason)
        mapping.add("overrides", overrides)
    identity = tomlkit.table()
    for field, column in config.mapping.identity.items():
        identity.add(field, column)
    mapping.add("identity", identity)
    doc.add("mapping", mapping)

    variables = tomlkit.table(is_super_table=True)
    variables.add(tomlkit.comment("attribute variables in the catalog (names, never values)"))
    variables.add(tomlkit.comment(f"classification: {' / '.join(CLASSIFICATIONS)}"))
    variables.add(tomlkit.comment(f"type: {' / '.join(VARIABLE_TYPES)}"))
    for name, var in config.variables.items():
        table = tomlkit.table()
        # Code labels only once the steward wrote some (an empty table is noise).
        # … and a classification reason only where init proposed one.
        hidden = ({"labels"} if not var.labels else set()) | (
            {"classification_reason"} if not var.classification_reason else set())
        for key, value in var.model_dump(exclude=hidden).items():
            table.add(key, value)
        variables.add(name, table)
    doc.add("variables", variables)

    store = tomlkit.table()
    store.add(tomlkit.comment("SQLAlchemy URL of the node store; '' = SQLite node.sqlite3 here"))
    store.add("url", config.store.url)
    doc.add("store", store)

    server = tomlkit.table()
    for key, value in config.server.model_dump().items():
        server.add(key, value)
    server["max_match_request_bytes"].comment("larger bodies are refused with 413")
    doc.add("server", server)

    hub = tomlkit.table()
    hub.add(tomlkit.comment("filled in by `fedlink node enroll`"))
    for key, value in config.hub.model_dump().items():
        hub.add(key, value)
    doc.add("hub", hub)
    return tomlkit.dumps(doc)


def write_new_config(node_dir: Path, config: NodeConfig) -> Path:
    path = config_path(node_dir)
    path.write_text(render_config(config), encoding="utf-8")
    path.chmod(0o600)
    return path


def update_hub_section(node_dir: Path, *, url: str, signing_kid: str, hpke_kid: str,
                       assembly_kid: str = "", assembly_signing_kid: str = "") -> None:
    """Record the enrolled hub, keeping the steward's comments and edits."""
    path = config_path(node_dir)
    doc = tomlkit.parse(path.read_text(encoding="utf-8"))
    hub = doc.get("hub")
    if hub is None:
        hub = tomlkit.table()
        doc.add("hub", hub)
    hub["url"] = url
    hub["signing_kid"] = signing_kid
    hub["hpke_kid"] = hpke_kid
    hub["assembly_kid"] = assembly_kid
    hub["assembly_signing_kid"] = assembly_signing_kid
    path.write_text(tomlkit.dumps(doc), encoding="utf-8")


def update_hub_ca_file(node_dir: Path, ca_file: str) -> None:
    """Record the CA bundle that verifies the hub (``fedlink node enroll --ca-file``)."""
    path = config_path(node_dir)
    doc = tomlkit.parse(path.read_text(encoding="utf-8"))
    hub = doc.get("hub")
    if hub is None:
        hub = tomlkit.table()
        doc.add("hub", hub)
    hub["ca_file"] = ca_file
    path.write_text(tomlkit.dumps(doc), encoding="utf-8")
