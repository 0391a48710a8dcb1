"""Reports back to the agencies (docs/findings.md): reading a report file for upload, and
checking and saving a downloaded one.

**Upload.** The hub takes PDF, Word (.docx), plain text and Markdown, at most 10 MiB, base64
in JSON; the content type follows the file's suffix (the hub checks it against the bytes).
A file the hub would refuse for its suffix or size is refused here, before it is sent.

**Download.** The file's SHA-256 must equal both the ``X-Fedlink-SHA256`` header and the
report's metadata; otherwise nothing is written. The file is saved under the name the hub
holds, reduced to its last component, so nothing lands outside the chosen folder.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Final

from fedlink_client.errors import IntegrityError, InvalidInput
from fedlink_client.models import Report

#: The largest report the hub accepts (decoded bytes).
MAX_REPORT_BYTES: Final = 10 << 20
#: File suffix → the content type the hub checks the bytes against.
CONTENT_TYPES: Final = {
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".txt": "text/plain",
    ".md": "text/markdown",
}
KINDS: Final = ("interim", "final", "brief", "other")


@dataclass(frozen=True)
class ReportFile:
    """A report's file as it is uploaded: its name, content type and bytes."""

    filename: str
    content_type: str
    data: bytes

    def body(self) -> dict[str, str]:
        """The file's fields of ``POST /v1/findings``."""
        return {"filename": self.filename, "content_type": self.content_type,
                "content_base64": base64.b64encode(self.data).decode("ascii")}


@dataclass(frozen=True)
class SavedReport:
    """A downloaded report: its metadata, where it was saved and its verified SHA-256."""

    report: Report
    path: Path
    sha256: str


def content_type_of(filename: str) -> str | None:
    """The content type for ``filename``'s suffix, or None when the hub takes no such file."""
    return CONTENT_TYPES.get(PurePosixPath(filename).suffix.lower())


def report_file(source: str | Path | bytes, *, filename: str | None = None,
                content_type: str | None = None) -> ReportFile:
    """The report to upload: the file at ``source`` (its name unless ``filename``), or
    ``source`` bytes named ``filename``. :class:`InvalidInput` for a type the hub does not
    take, an unreadable file or one above :data:`MAX_REPORT_BYTES`."""
    if isinstance(source, bytes):
        if not filename:
            raise InvalidInput("a report given as bytes needs its filename")
        shown, data = filename, source
    else:
        path = Path(source).expanduser()
        shown, filename = str(source), filename or path.name
        if content_type is None and content_type_of(filename) is None:
            raise InvalidInput(f"{shown}: give a .pdf, .docx, .txt or .md file")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InvalidInput(f"{shown}: {exc.strerror or exc}") from None
    kind = content_type or content_type_of(filename)
    if kind is None:
        raise InvalidInput(f"{shown}: give a .pdf, .docx, .txt or .md file")
    if not data:
        raise InvalidInput(f"{shown} is empty")
    if len(data) > MAX_REPORT_BYTES:
        raise InvalidInput(f"{shown} is larger than the hub's {MAX_REPORT_BYTES >> 20} MiB "
                           "limit for reports")
    return ReportFile(filename=filename, content_type=kind, data=data)


def verify_report(report: Report, data: bytes, announced: str) -> str:
    """The SHA-256 of ``data``; :class:`IntegrityError` unless it equals the header
    (``announced``) and the report's metadata."""
    received = hashlib.sha256(data).hexdigest()
    if not (hmac.compare_digest(received, announced.lower())
            and hmac.compare_digest(received, report.sha256.lower())):
        raise IntegrityError(f"report {report.id} failed its integrity check (SHA-256 "
                             "mismatch); nothing was written")
    return received


def target_path(report: Report, out: str | Path, *, overwrite: bool = False) -> Path:
    """Where ``report`` is saved in ``out``: its file name's last component only (the hub
    checked the name; a name from elsewhere must not reach outside ``out`` either)."""
    name = PureWindowsPath(PurePosixPath(report.filename).name).name
    if name in ("", ".", ".."):
        raise IntegrityError(f"report {report.id} has no usable file name "
                             f"({report.filename!r})")
    target = Path(out).expanduser() / name
    if target.exists() and not overwrite:
        raise InvalidInput(f"{target} already exists; nothing was written")
    return target


def save_report(report: Report, data: bytes, announced: str, out: str | Path, *,
                overwrite: bool = False) -> SavedReport:
    """Verify ``data`` (:func:`verify_report`) and write it to ``out`` (created if needed)
    through a temporary file, so a failure leaves no partial report behind."""
    digest = verify_report(report, data, announced)
    target = target_path(report, out, overwrite=overwrite)
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(f".{target.name}.part")
    try:
        part.write_bytes(data)
        os.replace(part, target)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return SavedReport(report=report, path=target, sha256=digest)
