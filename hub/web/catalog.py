"""The data dictionary pages: ``/catalog`` for every signed-in role (what ``GET
/v1/catalog`` answers: descriptions, years, completeness, code lists with small counts
suppressed) and ``/public/catalog`` for anyone (what ``GET /v1/public/catalog`` answers:
variables, descriptions, years and classification — no counts). Each page shows exactly
its JSON twin's data, so a page can never show more (docs/web.md).
"""

from __future__ import annotations

from itertools import groupby
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from hub.api.deps import SessionDep
from hub.persistence import agencies as agency_store
from hub.services.catalog import catalog, public_summary
from hub.web.deps import MaybeSignedIn, SignedInUser
from hub.web.pages import PageRoute, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/catalog")
def signed_in_catalog(request: Request, _me: SignedInUser, session: SessionDep,
                      agency: Annotated[str | None, Query(max_length=32)] = None
                      ) -> HTMLResponse:
    names = {a.code: a.name for a in agency_store.list_agencies(session)}
    rows = catalog(session, agency=agency)
    agencies = [
        {"agency": code, "name": names.get(code, code), "variables": list(items)}
        for code, items in groupby(rows, key=lambda r: r["agency"])
    ]
    return render(request, "catalog.html", agencies=agencies, selected=agency,
                  codes=sorted(names))


@router.get("/public/catalog")
def public_catalog(request: Request, _me: MaybeSignedIn, session: SessionDep) -> HTMLResponse:
    return render(request, "public_catalog.html", agencies=public_summary(session))
