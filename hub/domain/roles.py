"""Roles and the authenticated principal a request acts as."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    RESEARCHER = "researcher"
    GOVERNANCE = "governance"
    STEWARD = "steward"
    AUDITOR = "auditor"


USER_ROLES = tuple(Role)
#: Roles that read requests, sign for an agency or read the audit log: such an account stays
#: pending until the governance quorum approves it (hub.services.invitations).
PRIVILEGED_ROLES = frozenset({Role.GOVERNANCE, Role.STEWARD, Role.AUDITOR})


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a hub user (``kind == "user"``) or an enrolled node (``"node"``).

    ``role`` is the user's role, or ``"node"`` for a node; ``agency`` is the steward's or the
    node's agency.
    """

    kind: str
    id: int | None
    role: str
    token_id: int | None = None
    agency: str | None = None
    email: str | None = None

    @property
    def actor(self) -> str:
        """How the audit log names this principal (ids, not names: the chain is permanent)."""
        if self.kind == "node":
            return f"node:{self.agency}"
        if self.kind == "operator":
            return "operator"
        if self.kind == "worker":
            return "worker"  # the hub's linkage worker (hub.services.run_worker)
        if self.kind == "assembler":
            return "assembler"  # the assembly role (hub.assembly), never a linkage worker
        if self.kind == "system":
            return "system"  # the hub acting on a schedule an agreement set (refreshes)
        return f"user:{self.id}"


@dataclass(frozen=True, slots=True)
class Caller:
    """A principal (or nobody) plus the network address the call came from."""

    principal: Principal | None
    source: str = ""

    @property
    def actor(self) -> str:
        return self.principal.actor if self.principal else "anonymous"

    @property
    def role(self) -> str:
        return self.principal.role if self.principal else ""


#: The local operator running an offline ``fedlink hub …`` command on the database.
OPERATOR = Caller(Principal(kind="operator", id=None, role="operator"), source="local")
#: The hub itself, doing what an agreement scheduled (hub.services.refresh): not a person.
SYSTEM = Caller(Principal(kind="system", id=None, role="system"), source="local")
