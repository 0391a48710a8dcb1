"""Reading a source (CSV file or SQL table) row by row, surviving whatever is in it.

A CSV is parsed as UTF-8 with undecodable bytes kept aside (``surrogateescape``); only
the fields that hold such bytes are re-decoded with the configured encodings in order
(``utf-8`` then ``cp1252`` by default) and the row remembers which one worked. A field
that no configured encoding decodes, or that holds control characters (binary data),
makes its row unusable. Structural problems (ragged rows, broken quoting) are reported
per row, never raised.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, Table, create_engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchTableError, SQLAlchemyError

from agency_node.config import SourceSection
from agency_node.errors import SourceError

# C0 control characters other than tab, newline and carriage return: binary data.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
# What surrogateescape makes of a byte that is not UTF-8.
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")
_CSV_HARD_LIMIT = 1 << 24


@dataclass
class Problem:
    column: str
    reason: str
    detail: str


@dataclass
class RawRow:
    row_number: int
    line_number: int
    values: dict[str, str] | None
    problems: list[Problem] = field(default_factory=list)
    encoding: str = "utf-8"


@dataclass
class SourceStats:
    blank_lines: int = 0
    fallbacks: Counter[str] = field(default_factory=Counter)


def describe(source: SourceSection) -> str:
    """Where the source is, without credentials."""
    if source.kind == "csv":
        return f"csv:{source.path}"
    return f"sql:{_redacted(source.url)}#{source.table}"


def _redacted(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "<unparseable url>"


def _decode_field(value: str, encodings: list[str]) -> tuple[str | None, str]:
    """(decoded text or None, encoding used) for a field read with surrogateescape."""
    # ASCII first: most fields are, and it cannot hold an escaped byte (a per-character
    # scan of every field was an eighth of an ingest).
    if encodings[0] in ("utf-8", "utf8") and (value.isascii() or not _ESCAPED_BYTE.search(value)):
        return value, "utf-8"
    raw = value.encode("utf-8", "surrogateescape")
    for encoding in encodings:
        try:
            return raw.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError):
            continue
    return None, ""


@contextmanager
def open_source(
    source: SourceSection, stats: SourceStats
) -> Iterator[tuple[list[str], Iterator[RawRow]]]:
    """(header, rows) of the configured source; SourceError when it cannot be read at all."""
    if source.kind == "csv":
        with _open_csv(source, stats) as opened:
            yield opened
    else:
        with _open_sql(source) as opened:
            yield opened


@contextmanager
def _open_csv(
    source: SourceSection, stats: SourceStats
) -> Iterator[tuple[list[str], Iterator[RawRow]]]:
    path = Path(source.path)
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        raise SourceError(f"source file {path} does not exist") from None
    except IsADirectoryError:
        raise SourceError(f"source {path} is a directory, not a CSV file") from None
    with handle:
        if not handle.peek(1)[:1]:
            raise SourceError(f"source file {path} is empty: expected a header row")
        csv.field_size_limit(max(csv.field_size_limit(), min(4 * source.max_field_length + 16,
                                                             _CSV_HARD_LIMIT)))
        text = io.TextIOWrapper(handle, encoding="utf-8", errors="surrogateescape", newline="")
        reader = csv.reader(text, delimiter=source.delimiter)
        try:
            header_row = next(reader)
        except (csv.Error, StopIteration) as exc:
            raise SourceError(f"source file {path} has no readable header row ({exc})") from None
        header = []
        for cell in header_row:
            decoded, _ = _decode_field(cell, source.encodings)
            if decoded is None:
                raise SourceError(f"source file {path}: the header cannot be decoded")
            header.append(decoded.lstrip("\ufeff").strip())
        yield header, _csv_rows(reader, header, source.encodings, stats)


def _csv_rows(
    reader: Any, header: list[str], encodings: list[str], stats: SourceStats
) -> Iterator[RawRow]:
    row_number = 0
    previous_line = reader.line_num
    while True:
        start_line = previous_line + 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            row_number += 1
            previous_line = reader.line_num
            yield RawRow(row_number, start_line, None, [Problem("*", "unparseable_row", str(exc))])
            continue
        previous_line = reader.line_num
        if not fields:
            stats.blank_lines += 1
            continue
        row_number += 1
        if len(fields) != len(header):
            detail = f"{len(fields)} fields, header has {len(header)}"
            yield RawRow(row_number, start_line, None, [Problem("*", "ragged_row", detail)])
            continue
        values: dict[str, str] = {}
        problems: list[Problem] = []
        used = "utf-8"
        for column, raw in zip(header, fields, strict=True):
            decoded, encoding = _decode_field(raw, encodings)
            if decoded is None:
                problems.append(Problem(column, "undecodable", f"not {' / '.join(encodings)}"))
                continue
            if not decoded.isprintable() and _CONTROL.search(decoded):
                problems.append(Problem(column, "undecodable", "control characters (binary data)"))
                continue
            if encoding != "utf-8":
                used = encoding
            values[column] = decoded
        if used != "utf-8" and not problems:
            stats.fallbacks[used] += 1
        yield RawRow(row_number, start_line, values, problems, used)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


@contextmanager
def _open_sql(source: SourceSection) -> Iterator[tuple[list[str], Iterator[RawRow]]]:
    try:
        engine = create_engine(source.url)
    except (ArgumentError, ImportError, ValueError) as exc:
        raise SourceError(f"source url is not usable: {exc}") from None
    try:
        with engine.connect() as connection:
            try:
                table = Table(source.table, MetaData(), autoload_with=connection)
            except NoSuchTableError:
                raise SourceError(f"source table {source.table!r} does not exist") from None
            header = [column.name for column in table.columns]

            def rows() -> Iterator[RawRow]:
                result = connection.execution_options(stream_results=True).execute(select(table))
                for number, row in enumerate(result, start=1):
                    values = {name: _text(value) for name, value in zip(header, row, strict=True)}
                    yield RawRow(number, number, values)

            yield header, rows()
    except SQLAlchemyError as exc:
        raise SourceError(f"source database cannot be read: {type(exc).__name__}") from None
    finally:
        engine.dispose()
