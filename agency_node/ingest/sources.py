"""Reading a source (CSV file or SQL table) row by row, surviving whatever is in it, and
accounting for every physical line of a CSV.

Encoding: a byte-order mark decides (UTF-8, UTF-16 LE/BE, UTF-32 LE/BE); a file without
one whose first 4 KiB are a third NUL bytes at odd (even) offsets is read as UTF-16 LE (BE).
Otherwise the file is parsed as UTF-8 with undecodable bytes kept aside
(``surrogateescape``); only the fields that hold such bytes are re-decoded with the
configured encodings in order (``utf-8`` then ``cp1252`` by default) and the row remembers
which one worked. A field that no encoding decodes, or that holds control characters
(binary data), makes its row unusable.

Lines and records: a *physical line* ends at ``\n``, ``\r\n`` or ``\r``. A record is one
line, or several when a quoted field holds line breaks. A multi-line record is accepted
only when it parses cleanly, spans at most :data:`MAX_RECORD_LINES` lines, has exactly
the header's number of fields, no field over ``max_field_length``, and no line inside it
that would be a full record on its own (no quote, header-many fields); otherwise its
*first line alone* is reported as ``broken_quoting`` and parsing resumes at the next line.
So a stray ``"`` costs one line, never the rest of the file, and every line ends up in
exactly one place: the header, a blank line, or one row's ``line_number..line_end`` span.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

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
#: The most physical lines one record (a quoted field with line breaks) may span.
MAX_RECORD_LINES = 50
#: Longest BOMs first: the UTF-32 LE mark begins with the UTF-16 LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


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
    #: Last physical line of the row (0: same as ``line_number``).
    line_end: int = 0

    def __post_init__(self) -> None:
        self.line_end = self.line_end or self.line_number

    @property
    def lines(self) -> int:
        return self.line_end - self.line_number + 1


@dataclass
class SourceStats:
    blank_lines: int = 0
    fallbacks: Counter[str] = field(default_factory=Counter)
    #: Physical lines read so far (header included); for SQL, header 0 and one per row.
    lines: int = 0
    header_lines: int = 0
    #: The encoding the file was read in (from its byte-order mark, or the default).
    encoding: str = "utf-8"


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


def detect_encoding(head: bytes) -> tuple[str, int]:
    """(encoding, BOM length) from a file's first bytes; ('', 0) when nothing says."""
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding, len(bom)
    sample = head[:4096]
    if len(sample) >= 4 and sample.count(0) * 3 >= len(sample):
        odd = sample[1::2].count(0)
        even = sample[0::2].count(0)
        if odd > 2 * even:
            return "utf-16-le", 0
        if even > 2 * odd:
            return "utf-16-be", 0
    return "", 0


@contextmanager
def open_source(
    source: SourceSection, stats: SourceStats
) -> Iterator[tuple[list[str], Iterator[RawRow]]]:
    """(header, rows) of the configured source; SourceError when it cannot be read at all."""
    if source.kind == "csv":
        with _open_csv(source, stats) as opened:
            yield opened
    else:
        with _open_sql(source, stats) as opened:
            yield opened


class _Lines:
    """Physical lines with push-back: a record that turns out broken gives back all but
    its first line, and parsing resumes right after that line."""

    def __init__(self, text: IO[str], stats: SourceStats) -> None:
        self._text = text
        self._back: list[str] = []
        self._stats = stats
        self.number = 0  # the number of the last line taken

    def take(self) -> str | None:
        if self._back:
            line = self._back.pop()
        else:
            line = self._text.readline()
            if not line:
                return None
            self._stats.lines += 1
        self.number += 1
        return line

    def give_back(self, lines: list[str]) -> None:
        self._back.extend(reversed(lines))
        self.number -= len(lines)


@dataclass
class _Record:
    first: int
    last: int
    fields: list[str] | None
    error: str = ""


class _Feed:
    """The lines one record is read from: at most MAX_RECORD_LINES, then an end that the
    strict csv reader reports as an unclosed quote. Not a generator: the one reader is
    reused for every record, so the feed must keep working after it signalled an end."""

    def __init__(self, lines: _Lines) -> None:
        self.lines = lines
        self.taken: list[str] = []

    def __iter__(self) -> _Feed:
        return self

    def __next__(self) -> str:
        if len(self.taken) >= MAX_RECORD_LINES:
            raise StopIteration
        line = self.lines.take()
        if line is None:
            raise StopIteration
        self.taken.append(line)
        return line


def _records(lines: _Lines, delimiter: str, width: int, max_field: int) -> Iterator[_Record]:
    """Records by physical line span; ``width`` is the header's field count (0: header)."""
    feed = _Feed(lines)
    # strict: a quote in the wrong place is an error here, not silently re-synchronised.
    reader = csv.reader(feed, delimiter=delimiter, strict=True)
    while True:
        first = lines.number + 1
        line = lines.take()
        if line is None:
            return
        if '"' not in line:
            # No quote: one line is one record, split exactly as csv would split it.
            body = line.rstrip("\r\n")
            yield _Record(first, first, body.split(delimiter) if body else [])
            continue
        lines.give_back([line])
        feed.taken = []
        try:
            fields = next(reader)
        except (csv.Error, StopIteration) as exc:
            taken = feed.taken
            lines.give_back(taken[1:])
            yield _Record(first, first, None, _quote_detail(exc, len(taken)))
            continue
        taken = feed.taken
        if len(taken) > 1 and width and (
            len(fields) != width or any(len(f) > max_field for f in fields)
            or any(_looks_like_a_row(more, delimiter, width) for more in taken[1:-1])
        ):
            lines.give_back(taken[1:])
            yield _Record(first, first, None, f"a quoted field opened here spans {len(taken)} "
                          "lines but does not make a full record")
            continue
        yield _Record(first, first + len(taken) - 1, fields)


def _looks_like_a_row(line: str, delimiter: str, width: int) -> bool:
    """A whole line inside a quoted field that would be a full record on its own: far
    likelier rows swallowed by a stray quote than text with line breaks."""
    return '"' not in line and line.count(delimiter) == width - 1


def _quote_detail(exc: BaseException, taken: int) -> str:
    if "unexpected end of data" in str(exc):
        if taken >= MAX_RECORD_LINES:
            return f"a quote opened here is not closed within {MAX_RECORD_LINES} lines"
        return "a quote opened here is never closed"
    return f"bad quoting ({exc})"


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
    except PermissionError:
        raise SourceError(f"source file {path} is not readable by this user") from None
    with handle:
        head = handle.peek(4096)[:4096]
        if not head:
            raise SourceError(f"source file {path} is empty: expected a header row")
        detected, bom = detect_encoding(head)
        handle.read(bom)
        # A wide encoding (UTF-16/32) decodes the whole stream; otherwise UTF-8 with the
        # configured fallbacks per field.
        wide = detected not in ("", "utf-8")
        encodings = [detected] if wide else source.encodings
        stats.encoding = detected or "utf-8"
        csv.field_size_limit(max(csv.field_size_limit(), min(4 * source.max_field_length + 16,
                                                             _CSV_HARD_LIMIT)))
        # Wide encodings have no byte to escape: a bad code unit becomes U+FFFD, refused
        # per field below.
        text = io.TextIOWrapper(handle, encoding=detected if wide else "utf-8",
                                errors="replace" if wide else "surrogateescape", newline="")
        lines = _Lines(text, stats)
        try:
            records = _records(lines, source.delimiter, 0, source.max_field_length)
            first = next(records)
            while first.fields == []:  # blank lines before the header
                stats.blank_lines += 1
                first = next(records)
        except StopIteration:
            raise SourceError(f"source file {path} has no header row") from None
        except UnicodeError:
            raise SourceError(f"source file {path} cannot be read as {stats.encoding}") from None
        if first.fields is None:
            raise SourceError(f"source file {path} has no readable header row "
                              f"({first.error}; read as {stats.encoding})")
        stats.header_lines = first.last - first.first + 1
        header = []
        for cell in first.fields:
            decoded, _ = _decode(cell, encodings, wide=wide)
            if decoded is None or _CONTROL.search(decoded):
                raise SourceError(f"source file {path}: the header cannot be decoded as "
                                  f"{' / '.join(encodings)} (save the file as UTF-8)")
            header.append(decoded.lstrip("\ufeff").strip())
        body = _records(lines, source.delimiter, len(header), source.max_field_length)
        yield header, _csv_rows(body, header, encodings, stats, wide=wide)


def _decode(value: str, encodings: list[str], *, wide: bool) -> tuple[str | None, str]:
    if wide:
        return (None, "") if "\ufffd" in value else (value, encodings[0])
    return _decode_field(value, encodings)


def _csv_rows(
    records: Iterator[_Record], header: list[str], encodings: list[str], stats: SourceStats,
    *, wide: bool,
) -> Iterator[RawRow]:
    row_number = 0
    for record in records:
        if record.fields == []:
            stats.blank_lines += 1
            continue
        row_number += 1
        if record.fields is None:
            yield RawRow(row_number, record.first, None,
                         [Problem("*", "broken_quoting", record.error)], line_end=record.last)
            continue
        fields = record.fields
        if len(fields) != len(header):
            detail = f"{len(fields)} fields, header has {len(header)}"
            yield RawRow(row_number, record.first, None, [Problem("*", "ragged_row", detail)],
                         line_end=record.last)
            continue
        values: dict[str, str] = {}
        problems: list[Problem] = []
        used = stats.encoding
        for column, raw in zip(header, fields, strict=True):
            decoded, encoding = _decode(raw, encodings, wide=wide)
            if decoded is None:
                problems.append(Problem(column, "undecodable", f"not {' / '.join(encodings)}"))
                continue
            if not decoded.isprintable() and _CONTROL.search(decoded):
                problems.append(Problem(column, "undecodable", "control characters (binary data)"))
                continue
            if encoding != stats.encoding:
                used = encoding
            values[column] = decoded
        if used != stats.encoding and not problems:
            stats.fallbacks[used] += 1
        yield RawRow(row_number, record.first, values, problems, used, line_end=record.last)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


@contextmanager
def _open_sql(
    source: SourceSection, stats: SourceStats
) -> Iterator[tuple[list[str], Iterator[RawRow]]]:
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
                    stats.lines += 1  # a table row is its own "line"
                    values = {name: _text(value) for name, value in zip(header, row, strict=True)}
                    yield RawRow(number, number, values)

            yield header, rows()
    except SQLAlchemyError as exc:
        raise SourceError(f"source database cannot be read: {type(exc).__name__}") from None
    finally:
        engine.dispose()
