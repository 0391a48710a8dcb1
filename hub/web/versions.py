"""The versions section of the project and review pages (docs/amendments.md): every
version of the agreement and, for the newest proposed or approved change, what it changed
field by field."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from hub.db.models import Request
from hub.domain.amendments import diff
from hub.persistence import versions as store
from hub.services import amendments


def versions_section(session: Session, request: Request) -> dict[str, Any]:
    """``rows`` (oldest first), ``latest`` (the newest version after the original, or
    ``None``), its ``changes`` against the version it was proposed against (``against``),
    and while amending the agencies asked to re-approve."""
    rows = store.list_versions(session, request_id=request.id)
    latest = rows[-1] if len(rows) > 1 else None
    base = None
    if latest is not None:
        base = next((r for r in reversed(rows[:-1])
                     if r.status in ("in_force", "superseded")), None)
    return {
        "rows": rows, "latest": latest, "against": base,
        "changes": diff(base.dsa, latest.dsa) if latest is not None and base else [],
        "asked": (amendments.asked_agencies(session, request)
                  if request.status == "amending" else []),
    }
