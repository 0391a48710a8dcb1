"""Reading, downloading and certifying the destruction of extracts (docs/extracts.md).

A download is refused — 4xx, and audited as ``extract.download_refused`` — for anyone not
on the project's personnel (404 if they cannot see the project, 403 ``not_personnel`` if
they can), for a held, failed or building extract (409), after the extract's expiry, the
project's expiry or revocation, or its destruction (410), and for a stored bundle whose key
or ciphertext does not verify (409 ``extract_corrupted``), and for personnel without a
current completion of the hub's required training (403 ``training_required``,
hub.services.training), and for an extract holding a variable whose classification allows
outputs only (403 ``record_level_not_allowed``, docs/classification.md). Before anything is
streamed the whole file is decrypted once and its SHA-256 compared with the one recorded
at build time, so a tampered file is refused cleanly instead of failing half-way through a
response.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from hub.db.models import Extract, Request
from hub.domain.lifecycle import RequestStatus
from hub.domain.roles import Caller
from hub.errors import (
    ConflictError,
    ExtractGoneError,
    ExtractIntegrityError,
    HubError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from hub.extracts.crypto import KeyWrapper, decrypt_chunks, verify_file
from hub.persistence import extracts as store
from hub.persistence import requests as request_store
from hub.services import audit, classification
from hub.services.context import HubContext
from hub.services.extract_destruction import LIVE, destroy_extract
from hub.services.extract_policy import is_personnel, may_see
from hub.services.policy import require_record_level
from hub.services.requests import move
from hub.services.training import refusal_detail, require_current_training

S = RequestStatus


def _fields(extract_id: str, project_id: str = "") -> dict[str, Any]:
    return {"object_type": "extract", "object_id": extract_id, "project": project_id}


def visible_extract(session: Session, caller: Caller, *, extract_id: str,
                    lock: bool = False) -> tuple[Extract, Request]:
    extract = store.get_extract(session, extract_id=extract_id, lock=lock)
    request = (request_store.get_request(session, request_id=extract.project_id)
               if extract is not None else None)
    if extract is None or request is None or not may_see(request, caller.principal):
        raise NotFoundError(f"extract {extract_id} does not exist")
    return extract, request


def list_extracts(session: Session, ctx: HubContext, caller: Caller) -> list[Extract]:
    requests = {r.id: r for r in request_store.list_requests(session)}
    rows = [e for e in store.list_extracts(session)
            if e.project_id in requests and may_see(requests[e.project_id], caller.principal)]
    audit.record(session, ctx, caller, action="extract.listed", object_type="extract",
                 detail={"count": len(rows)})
    session.commit()
    return rows


def get_extract(session: Session, ctx: HubContext, caller: Caller, *,
                extract_id: str) -> Extract:
    try:
        extract, _ = visible_extract(session, caller, extract_id=extract_id)
    except HubError as exc:
        audit.refuse(session, ctx, caller, exc, action="extract.view_refused",
                     **_fields(extract_id))
    audit.record(session, ctx, caller, action="extract.viewed", **_fields(
        extract_id, extract.project_id))
    session.commit()
    return extract


@dataclass(frozen=True)
class Download:
    """What the route streams: ``chunks()``, its SHA-256, media type and file name."""

    path: Path
    data_key: bytes | None
    extract_id: str
    sha256: str
    size: int | None
    media_type: str
    filename: str
    encryption: str

    def chunks(self) -> Iterator[bytes]:
        with self.path.open("rb") as source:
            if self.data_key is None:
                while block := source.read(1 << 20):
                    yield block
            else:
                yield from decrypt_chunks(source, self.data_key, extract_id=self.extract_id)


def _check_available(ctx: HubContext, extract: Extract, request: Request) -> None:
    if request.status == S.REVOKED:
        raise ExtractGoneError("the project was revoked; its extract is no longer available",
                               code="project_revoked")
    if request.status == S.EXPIRED:
        raise ExtractGoneError("the project has ended; its extract is no longer available",
                               code="project_expired")
    if extract.status == "destroyed":
        raise ExtractGoneError("the extract was destroyed", code="extract_destroyed")
    if extract.status == "held":
        raise ConflictError("disclosure control held the extract for the agencies' stewards",
                            code="extract_held")
    if extract.status != "available":
        raise ConflictError(f"the extract is {extract.status}", code="extract_not_available")
    if ctx.now() >= extract.expires_at:
        raise ExtractGoneError("the extract has expired", code="extract_expired")


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while block := source.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def prepare_download(session: Session, ctx: HubContext, caller: Caller, *,
                     extract_id: str) -> Download:
    """Check everything, verify the stored bundle, audit the download; what to stream."""
    fields = _fields(extract_id)
    try:
        extract, request = visible_extract(session, caller, extract_id=extract_id)
        fields["project"] = extract.project_id
        if not is_personnel(request, caller.principal):
            raise PermissionDeniedError("only the project's named personnel may download its "
                                        "extract", code="not_personnel")
        require_current_training(session, ctx, caller.principal)
        require_record_level(ctx, request)
        # The catalog's classification now (docs/classification.md): a variable
        # reclassified as outputs-only after the build is not handed out either.
        classification.require_record_level(session, ctx, dict(extract.variables or {}))
        _check_available(ctx, extract, request)
        key = store.get_key(session, extract_id=extract_id)
        path = Path(ctx.settings.extracts_dir or ctx.settings.dir / "extracts") / str(
            extract.file_name)
        if key is None or not path.is_file():
            raise ExtractIntegrityError("the extract's key or file is missing")
        data_key = KeyWrapper.from_directory(ctx.settings.dir).unwrap(
            key.wrapped_key, extract_id=extract_id, kid=key.kwk_id)
        if extract.encryption == "researcher":
            if _sha256_file(path) != extract.ciphertext_sha256:
                raise ExtractIntegrityError("the stored extract does not match its digest")
            download = Download(path=path, data_key=None, extract_id=extract_id,
                                sha256=str(extract.ciphertext_sha256), size=extract.size_bytes,
                                media_type="application/octet-stream",
                                filename=f"{extract_id}.flx", encryption="researcher")
        else:
            if verify_file(path, data_key, extract_id=extract_id) != extract.sha256:
                raise ExtractIntegrityError("the stored extract does not match its digest")
            download = Download(path=path, data_key=data_key, extract_id=extract_id,
                                sha256=str(extract.sha256), size=None,
                                media_type="application/zip", filename=f"{extract_id}.zip",
                                encryption="hub")
    except HubError as exc:
        audit.refuse(session, ctx, caller, exc, action="extract.download_refused", **fields,
                     detail=refusal_detail(exc))
    audit.record(session, ctx, caller, action="extract.downloaded", **fields,
                 detail={"sha256": download.sha256, "encryption": download.encryption})
    session.commit()
    return download


def certify_destruction(session: Session, ctx: HubContext, caller: Caller, *,
                        extract_id: str, statement: str) -> Extract:
    """The researcher certifies their copies are destroyed: the hub destroys its own, and
    the project closes (``expired``) when it has no other live extract."""
    fields = _fields(extract_id)
    try:
        extract, request = visible_extract(session, caller, extract_id=extract_id)
        fields["project"] = extract.project_id
        if not is_personnel(request, caller.principal):
            raise PermissionDeniedError("only the project's personnel certify destruction",
                                        code="not_personnel")
        if not statement.strip():
            raise InvalidInputError("a certification needs a statement")
        if (extract.destruction or {}).get("certified_by"):
            raise ConflictError("destruction of this extract was already certified",
                                code="already_certified")
    except HubError as exc:
        audit.refuse(session, ctx, caller, exc, action="extract.certify_refused", **fields)
    certification = {"certified_by": caller.actor, "statement": statement.strip()[:2000],
                     "certified_at": ctx.now().isoformat()}
    audit.record(session, ctx, caller, action="extract.destruction_certified", **fields,
                 detail={"certified_by": caller.actor})
    session.commit()
    if not destroy_extract(ctx, caller, extract_id=extract_id, reason="certified",
                           detail=certification):
        row = store.get_extract(session, extract_id=extract_id, lock=True)
        assert row is not None
        row.destruction = {**(row.destruction or {}), **certification}
        session.commit()
    project = request_store.get_request(session, request_id=extract.project_id, lock=True)
    live = store.list_extracts(session, project_ids=[extract.project_id], statuses=LIVE)
    if project is not None and project.status == S.READY and not live:
        move(session, ctx, caller, project, S.EXPIRED, action="request.closed",
             reason="the researcher certified destruction of the extract")
    session.commit()
    result = store.get_extract(session, extract_id=extract_id)
    assert result is not None
    return result
