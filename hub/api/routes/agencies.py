"""Agencies (admin), node enrollment (public, token in the body) and the catalog."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from hub.api.deps import AdminCaller, AnonymousCaller, AnyUserCaller, ContextDep, SessionDep
from hub.api.responses import ONE_TIME_SECRET, USER, USER_CHANGE, USER_CREATE
from hub.api.schemas import AgencyCreate, AgencyUpdate
from hub.api.schemas_views import AgencyView, CatalogEntry, returns
from hub.services import agencies
from protocol.wire import EnrollmentRequest, EnrollmentResponse

router = APIRouter(prefix="/v1")


@router.post("/agencies", responses=USER_CREATE, status_code=201, tags=["agencies"],
             **returns(AgencyView),
             summary="Register an agency; returns its one-time enrollment token [admin]")
def create_agency(body: AgencyCreate, caller: AdminCaller, session: SessionDep,
                  ctx: ContextDep) -> dict[str, Any]:
    """Register an agency and its node URL. The answer carries the one-time `enrollment_token`
    the agency's operator gives `fedlink node enroll`."""
    agency, token = agencies.add_agency(session, ctx, caller, code=body.code, name=body.name,
                                        url=body.url)
    return {**agencies.agency_view(agency), "enrollment_token": token}


@router.patch("/agencies/{code}", responses=USER_CHANGE, tags=["agencies"],
              **returns(AgencyView),
              summary="Rename an agency, move its node, or issue a re-enrolment token [admin]")
def update_agency(code: str, body: AgencyUpdate, caller: AdminCaller, session: SessionDep,
                  ctx: ContextDep) -> dict[str, Any]:
    """Change an agency's name or node URL, and/or (`reenrol: true`) issue a fresh one-time
    enrollment token for a node with a new key (earlier unused tokens stop working)."""
    agency, token = agencies.update_agency(session, ctx, caller, code=code, name=body.name,
                                           url=body.url, reenrol=body.reenrol)
    return {**agencies.agency_view(agency),
            **({"enrollment_token": token} if token is not None else {})}


@router.get("/agencies", responses=USER, tags=["agencies"], **returns(list[AgencyView]),
            summary="List agencies [any user]")
def list_agencies(caller: AnyUserCaller, session: SessionDep) -> list[dict[str, Any]]:
    """Every agency with its enrollment state and node key."""
    return agencies.list_agencies(session)


@router.post("/enrollment", responses=ONE_TIME_SECRET, tags=["nodes"],
             **returns(EnrollmentResponse),
             summary="Enroll a node with its one-time token (docs/protocol.md) [public]")
def enroll(body: EnrollmentRequest, caller: AnonymousCaller, session: SessionDep,
           ctx: ContextDep) -> dict[str, Any]:
    """A node enrolls with its one-time token (in the body, no bearer token): it registers its
    signing key and data dictionary and receives the hub's keys and its node API token
    (docs/protocol.md)."""
    response = agencies.enroll(session, ctx, caller, request=body)
    return response.model_dump(mode="json")


@router.get("/catalog", responses=USER, tags=["catalog"], **returns(list[CatalogEntry]),
            summary="Every enrolled node's data dictionary: descriptions, years, "
            "completeness, code lists (small counts suppressed) [any user]")
def catalog(caller: AnyUserCaller, session: SessionDep,
            agency: str | None = None) -> list[dict[str, Any]]:
    """The merged data dictionaries of every enrolled node: each variable's description, type,
    years, classification, completeness and code list (counts below the minimum cell are
    null). Filter with `agency`. Use it to write the `variables` of an agreement."""
    return agencies.catalog(session, agency=agency)
