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
from hub.api.schemas_runs import ExtractView
from hub.api.schemas_views import returns
from hub.services import extract_access, extract_build, extract_release
from hub.services.extract_views import extract_view

router = APIRouter(prefix="/v1/extracts", tags=["extracts"])


@router.post("", responses=USER_CHANGE, **returns(ExtractView),
             status_code=202, summary="Ask for the linked extract of a ready project "
             "from its newest succeeded run; the assembly role (`fedlink hub assembler`) "
             "builds it — person ids, node payloads, disclosure control, encrypted bundle — "
             "and the extract leaves `building` [researcher (personnel), governance]")
def create(body: ExtractCreate, caller: ExtractBuilderCaller, session: SessionDep,
           ctx: ContextDep) -> dict[str, Any]:
    """Ask for the linked extract of a `ready` project from its newest succeeded run (or
    `run_id`), optionally a subset of the approved variables. Answers 202 with the extract
    `building`; poll `GET /v1/extracts/{extract_id}` until `available`. 409 `empty_extract`
    when the run linked nobody, `project_not_ready`, `no_succeeded_run`."""
    extract = extract_build.start_extract(session, ctx, caller, project_id=body.project_id,
                                          run_id=body.run_id, variables=body.variables)
    return extract_view(extract)


@router.get("", responses=USER, **returns(list[ExtractView]),
            summary="Extracts the caller may see (metadata) [researcher (personnel), "
            "governance, steward (own agency), auditor]")
def list_extracts(caller: RequestReaderCaller, session: SessionDep,
                  ctx: ContextDep) -> list[dict[str, Any]]:
    """Extracts the caller may see (metadata only)."""
    return [extract_view(e) for e in extract_access.list_extracts(session, ctx, caller)]


@router.get("/{extract_id}", responses=EXTRACT, **returns(ExtractView),
            summary="One extract's metadata and SHA-256 [as above]")
def get(extract_id: str, caller: RequestReaderCaller, session: SessionDep,
        ctx: ContextDep) -> dict[str, Any]:
    """One extract's metadata: status, tables and rows, SHA-256 of the bundle (and of the
    ciphertext when sealed to your key), disclosure control summary, expiry."""
    return extract_view(extract_access.get_extract(session, ctx, caller,
                                                   extract_id=extract_id))


@router.get("/{extract_id}/download",
            responses={**EXTRACT, **ok_as("application/zip", "application/octet-stream")},
            summary="Stream the bundle (zip) — or its ciphertext "
            "when it is sealed to the researcher's key — with its SHA-256 in "
            "X-Fedlink-SHA256 [researcher (personnel)]")
def download(extract_id: str, caller: RequestReaderCaller, session: SessionDep,
             ctx: ContextDep) -> StreamingResponse:
    """Stream the extract bundle (a zip), or its ciphertext when the agreement sealed it to the
    researcher's key (`X-Fedlink-Encryption: researcher`). Check the body against
    `X-Fedlink-SHA256`. Only the project's personnel, each with a current completion of the
    hub's required training (else 403 `training_required`); 410 once it expired or was
    destroyed."""
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


@router.post("/{extract_id}/certify-destruction", responses=EXTRACT, **returns(ExtractView),
             summary="Certify that every copy was "
             "destroyed; the hub destroys its key and file and closes the project "
             "[researcher (personnel)]")
def certify(extract_id: str, body: DestructionCertification, caller: ResearcherCaller,
            session: SessionDep, ctx: ContextDep) -> dict[str, Any]:
    """Certify that every copy of the extract was destroyed: the hub destroys its key and file,
    purges the project's linkage results and closes the project."""
    return extract_view(extract_access.certify_destruction(
        session, ctx, caller, extract_id=extract_id, statement=body.statement))


@router.post("/{extract_id}/decision", responses=EXTRACT, **returns(ExtractView),
             summary="Release or withhold an extract held by "
             "disclosure control [steward (agency in the extract)]")
def decide(extract_id: str, body: ExtractDecisionBody, caller: StewardCaller,
           session: SessionDep, ctx: ContextDep) -> dict[str, Any]:
    """A steward of an agency in the extract releases or withholds an extract that disclosure
    control held."""
    return extract_view(extract_release.decide_held(
        session, ctx, caller, extract_id=extract_id, decision=body.decision, reason=body.reason))
