"""Linked extracts: build, list, read, download, certify destruction, stewards' release."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from hub.api.deps import (
    ContextDep,
    ExtractBuilderCaller,
    RequestReaderCaller,
    ResearcherCaller,
    SessionDep,
    StewardCaller,
)
from hub.api.responses import EXTRACT, USER, USER_CHANGE, ok_as
from hub.api.schemas import DestructionCertification, ExtractCreate, ExtractDecisionBody
from hub.services import extract_access, extract_build, extract_release
from hub.services.extract_views import extract_view

router = APIRouter(prefix="/v1/extracts", tags=["extracts"])


@router.post("", responses=USER_CHANGE,
             status_code=202, summary="Ask for the linked extract of a ready project "
             "from its newest succeeded run; the assembly role (`fedlink hub assembler`) "
             "builds it — person ids, node payloads, disclosure control, encrypted bundle — "
             "and the extract leaves `building` [researcher (personnel), governance]")
def create(body: ExtractCreate, caller: ExtractBuilderCaller, session: SessionDep,
           ctx: ContextDep) -> dict[str, Any]:
    extract = extract_build.start_extract(session, ctx, caller, project_id=body.project_id,
                                          run_id=body.run_id, variables=body.variables)
    return extract_view(extract)


@router.get("", responses=USER,
            summary="Extracts the caller may see (metadata) [researcher (personnel), "
            "governance, steward (own agency), auditor]")
def list_extracts(caller: RequestReaderCaller, session: SessionDep,
                  ctx: ContextDep) -> list[dict[str, Any]]:
    return [extract_view(e) for e in extract_access.list_extracts(session, ctx, caller)]


@router.get("/{extract_id}", responses=EXTRACT,
            summary="One extract's metadata and SHA-256 [as above]")
def get(extract_id: str, caller: RequestReaderCaller, session: SessionDep,
        ctx: ContextDep) -> dict[str, Any]:
    return extract_view(extract_access.get_extract(session, ctx, caller,
                                                   extract_id=extract_id))


@router.get("/{extract_id}/download",
            responses={**EXTRACT, **ok_as("application/zip", "application/octet-stream")},
            summary="Stream the bundle (zip) — or its ciphertext "
            "when it is sealed to the researcher's key — with its SHA-256 in "
            "X-Fedlink-SHA256 [researcher (personnel)]")
def download(extract_id: str, caller: RequestReaderCaller, session: SessionDep,
             ctx: ContextDep) -> StreamingResponse:
    prepared = extract_access.prepare_download(session, ctx, caller, extract_id=extract_id)
    headers = {
        "X-Fedlink-SHA256": prepared.sha256,
        "X-Fedlink-Encryption": prepared.encryption,
        "Content-Disposition": f'attachment; filename="{prepared.filename}"',
        "Cache-Control": "no-store",
    }
    if prepared.size is not None:
        headers["Content-Length"] = str(prepared.size)
    return StreamingResponse(prepared.chunks(), media_type=prepared.media_type,
                             headers=headers)


@router.post("/{extract_id}/certify-destruction", responses=EXTRACT,
             summary="Certify that every copy was "
             "destroyed; the hub destroys its key and file and closes the project "
             "[researcher (personnel)]")
def certify(extract_id: str, body: DestructionCertification, caller: ResearcherCaller,
            session: SessionDep, ctx: ContextDep) -> dict[str, Any]:
    return extract_view(extract_access.certify_destruction(
        session, ctx, caller, extract_id=extract_id, statement=body.statement))


@router.post("/{extract_id}/decision", responses=EXTRACT,
             summary="Release or withhold an extract held by "
             "disclosure control [steward (agency in the extract)]")
def decide(extract_id: str, body: ExtractDecisionBody, caller: StewardCaller,
           session: SessionDep, ctx: ContextDep) -> dict[str, Any]:
    return extract_view(extract_release.decide_held(
        session, ctx, caller, extract_id=extract_id, decision=body.decision, reason=body.reason))
