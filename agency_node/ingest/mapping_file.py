"""``mapping.toml``: the column mapping ``fedlink node init`` decided, in a file a steward
reviews, edits and feeds back (``fedlink node init --mapping DIR/mapping.toml``).

Every entry in it is an explicit choice: what the file names wins over detection, and
columns it does not name are detected as usual (a new column in next year's export is
still profiled). ``[ignore]`` keeps the reason each column is never loaded; moving a
column from ``[ignore]`` to ``[override]`` with a reason is the steward override that
offers an identifying column as a variable (recorded in node.toml and the audit log).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import tomlkit
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from tomlkit.exceptions import TOMLKitError

from agency_node.errors import ConfigError
from agency_node.ingest.plan import Choices, Plan
from protocol.signing import describe_validation_error

MAPPING_FILE = "mapping.toml"


class MappingFile(BaseModel):
    """The validated shape of ``mapping.toml``."""

    model_config = ConfigDict(extra="forbid")

    record_id: str = ""
    #: Absent: detect the year column; "" = none.
    year_column: str | None = None
    #: Absent: detect; "" = none (each row its own person / no period).
    person_id: str | None = None
    period_column: str | None = None
    date_order: Literal["MDY", "DMY", ""] = ""
    identity: dict[str, str] = Field(default_factory=dict)  # canonical field → column
    ignore: dict[str, str] = Field(default_factory=dict)  # column → reason
    override: dict[str, str] = Field(default_factory=dict)  # column → reason


def read_mapping_file(path: Path) -> Choices:
    """The steward's choices in ``path``; any problem is one ConfigError sentence."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"mapping file {path} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"mapping file {path} cannot be read: {exc}") from None
    try:
        data = tomlkit.parse(text).unwrap()
        parsed = MappingFile.model_validate(data)
    except TOMLKitError as exc:
        raise ConfigError(f"mapping file {path} is not valid TOML: {exc}") from None
    except ValidationError as exc:
        raise ConfigError(f"mapping file {path}: {describe_validation_error(exc)}") from None
    both = sorted(set(parsed.ignore) & set(parsed.override))
    if both:
        raise ConfigError(f"mapping file {path}: {', '.join(both)} both ignored and overridden")
    return Choices(identity=dict(parsed.identity), record_id=parsed.record_id,
                   year_column=parsed.year_column, date_order=parsed.date_order,
                   person_id=parsed.person_id, period_column=parsed.period_column,
                   ignore=dict(parsed.ignore), override=dict(parsed.override))


def render_mapping_file(plan: Plan) -> str:
    """The commented TOML of ``plan``: what each column is, and why."""
    doc = tomlkit.document()
    for line in (
        "Column mapping written by `fedlink node init`: review it, edit it, and re-run",
        "  fedlink node init --mapping mapping.toml ... (into a new node directory)",
        "What this file names wins over detection; other columns are detected again.",
    ):
        doc.add(tomlkit.comment(line))
    doc.add(tomlkit.nl())
    doc.add("record_id", plan.record_id)
    doc.add("year_column", plan.year_column)
    doc["year_column"].comment("'' = no year column")
    doc.add("person_id", plan.person_id)
    doc["person_id"].comment("agency person id: rows sharing it are one person ('' = none)")
    doc.add("period_column", plan.period_column)
    doc["period_column"].comment("year, school year, term, quarter or date ('' = none)")
    doc.add("date_order", plan.date_order)
    doc["date_order"].comment(plan.date_order_reason)
    reasons = {d.column: d.reason for d in plan.decisions}
    identity = tomlkit.table()
    identity.add(tomlkit.comment("canonical identity field = source column"))
    for fld, column in plan.identity.items():
        identity.add(fld, column)
        identity[fld].comment(reasons.get(column, ""))
    doc.add("identity", identity)
    ignore = tomlkit.table()
    ignore.add(tomlkit.comment("source column = why it is never loaded"))
    for column, reason in plan.ignore.items():
        ignore.add(column, reason)
    doc.add("ignore", ignore)
    override = tomlkit.table()
    override.add(tomlkit.comment("steward override: an identifying column offered as a "
                                 "variable anyway = why (audited)"))
    for column, reason in plan.override.items():
        override.add(column, reason)
    doc.add("override", override)
    return tomlkit.dumps(doc)


def write_mapping_file(path: Path, plan: Plan) -> Path:
    path.write_text(render_mapping_file(plan), encoding="utf-8")
    path.chmod(0o600)
    return path
