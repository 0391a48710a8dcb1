"""The node store's tables (SQLAlchemy 2 declarative).

Identity values in clear exist only in ``records`` (normalised and raw) — this database
never leaves the node. The schema is owned by the Alembic migrations in
``agency_node/store/migrations`` (:mod:`agency_node.store.migrate`); a change here needs a
new revision there (``tests/agency_node/store/test_node_migrations.py`` compares them).
Times are stored as ISO-8601 strings (audit hashes must be stable across SQLite and
PostgreSQL) or, for the replay window, as epoch seconds.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

#: Stable constraint names, so Alembic migrations are the same on SQLite and PostgreSQL
#: (batch migrations on SQLite can only alter constraints that have a name).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Record(Base):
    """One source row that passed every check, keyed by the agency's local record id."""

    __tablename__ = "records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[str] = mapped_column(String(255), unique=True, index=True)
    identity: Mapped[dict[str, Any]] = mapped_column(JSON)
    raw_identity: Mapped[dict[str, Any]] = mapped_column(JSON)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON)
    year: Mapped[int | None] = mapped_column(Integer, index=True)
    #: The agency person id (mapping ``person_id``): rows sharing it are one person; None =
    #: no person id, the row is its own person.
    person_id: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    #: The row's period, normalised (``2021Q3``, ``2021-22``, ``2021FA``…), and its kind
    #: (agency_node/ingest/periods.py); None without a period column or value.
    period: Mapped[str | None] = mapped_column(String(16), nullable=True)
    period_kind: Mapped[str | None] = mapped_column(String(16), nullable=True)
    source_row: Mapped[int] = mapped_column(Integer)
    encoding: Mapped[str] = mapped_column(String(32))
    ingest_run_id: Mapped[int] = mapped_column(ForeignKey("ingest_runs.id"))


class IngestRun(Base):
    __tablename__ = "ingest_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(Text)
    strict: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(32))
    rows: Mapped[int] = mapped_column(Integer, default=0)
    loaded: Mapped[int] = mapped_column(Integer, default=0)
    quarantined: Mapped[int] = mapped_column(Integer, default=0)
    blank_lines: Mapped[int] = mapped_column(Integer, default=0)
    encoding_fallbacks: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    #: Physical lines of the source, and where each went (header, blank, loaded,
    #: quarantined, refused): the parts add up to ``lines``.
    lines: Mapped[int | None] = mapped_column(Integer, nullable=True)
    accounting: Mapped[dict[str, int] | None] = mapped_column(JSON, nullable=True)
    finished_at: Mapped[str | None] = mapped_column(String(40), nullable=True)
    #: Why a run failed or was refused (no values), '' otherwise.
    failure: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: Whether the run's final audit event is written; a run left unaudited (killed, or
    #: the audit write failed) is audited by the next ingest.
    audited: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Person ids of the source that clearly different people share (their rows are
    #: quarantined ``reused_person_id``); None for runs before persons were mapped.
    reused_person_ids: Mapped[int | None] = mapped_column(Integer, nullable=True)


class QuarantinedRow(Base):
    """Why one source row was not loaded; one entry per problem (never the values)."""

    __tablename__ = "quarantine"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ingest_run_id: Mapped[int] = mapped_column(ForeignKey("ingest_runs.id"), index=True)
    row_number: Mapped[int] = mapped_column(Integer)
    line_number: Mapped[int] = mapped_column(Integer)
    #: Last physical line of the row (a quoted field may span lines).
    line_end: Mapped[int | None] = mapped_column(Integer, nullable=True)
    column: Mapped[str] = mapped_column(String(255))
    reason: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text)


class Approval(Base):
    """The steward's decision for one project on this node, and the scope approved."""

    __tablename__ = "approvals"

    project_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    decision: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    terms: Mapped[dict[str, Any]] = mapped_column(JSON)
    terms_digest: Mapped[str] = mapped_column(String(128))
    variables: Mapped[list[str]] = mapped_column(JSON)
    years: Mapped[list[int]] = mapped_column(JSON)
    cohort: Mapped[Any] = mapped_column(JSON, nullable=True)
    term_start: Mapped[str] = mapped_column(String(40))
    term_end: Mapped[str] = mapped_column(String(40))
    matching_authorised: Mapped[bool] = mapped_column(Boolean)
    decided_at: Mapped[str] = mapped_column(String(40))
    decided_by: Mapped[str] = mapped_column(String(128))
    salt: Mapped[str | None] = mapped_column(String(256), nullable=True)
    salt_pinned_at: Mapped[str | None] = mapped_column(String(40), nullable=True)


class IssuedPid(Base):
    """A project-scoped pseudonymous id this node sent to the hub in a match response."""

    __tablename__ = "issued_pids"
    __table_args__ = (UniqueConstraint("project_id", "pid"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[str] = mapped_column(String(128), index=True)
    pid: Mapped[str] = mapped_column(String(128))
    record_pk: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"))


class SeenNonce(Base):
    """Nonces of verified messages, kept until their expiry (the replay window)."""

    __tablename__ = "seen_nonces"

    kid: Mapped[str] = mapped_column(String(128), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(128), primary_key=True)
    expires_at: Mapped[float] = mapped_column(Float, index=True)


class AuditEvent(Base):
    """One link of the node's hash chain: who asked what, and the outcome — never values."""

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(256))
    typ: Mapped[str] = mapped_column(String(64))
    project_id: Mapped[str] = mapped_column(String(128))
    outcome: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class WitnessedCheckpoint(Base):
    """A hub checkpoint this node verified and co-signed as a witness (docs/hub.md,
    "Transparency log"): the largest is the view every later checkpoint must extend."""

    __tablename__ = "witnessed_checkpoints"

    size: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    root_hash: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text)
    cosignature: Mapped[str] = mapped_column(Text)
    cosigned_at: Mapped[int] = mapped_column(Integer)


class LogCheckpoint(Base):
    """A checkpoint of this node's own audit log, signed by the node key; copies are held
    by the hub, so a rewritten node log no longer matches them."""

    __tablename__ = "log_checkpoints"

    size: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    root_hash: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text)


class PurgedProject(Base):
    """A project whose issued pseudonym map this node deleted (term ended by the node's own
    clock, or governance revoked it): when, why and how many pids — never which."""

    __tablename__ = "purged_projects"

    project_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    reason: Mapped[str] = mapped_column(String(32))
    purged_at: Mapped[str] = mapped_column(String(40))
    pids: Mapped[int] = mapped_column(Integer)


class GovernanceRosterVersion(Base):
    """A governance roster version this node verified: version 1 pinned at enrollment by its
    fingerprint, each later one accepted only when signed by a quorum of the one before."""

    __tablename__ = "governance_rosters"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    digest: Mapped[str] = mapped_column(String(64))
    roster: Mapped[dict[str, Any]] = mapped_column(JSON)
    signatures: Mapped[list[Any]] = mapped_column(JSON)
    accepted_at: Mapped[str] = mapped_column(String(40))


class GovernanceApproval(Base):
    """The signed governance decisions that met the quorum for a project's digest here."""

    __tablename__ = "governance_approvals"

    project_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    project_digest: Mapped[str] = mapped_column(String(64))
    roster_version: Mapped[int] = mapped_column(Integer)
    decisions: Mapped[list[Any]] = mapped_column(JSON)
    verified_at: Mapped[str] = mapped_column(String(40))


class ProjectRevocation(Base):
    """A signed revocation this node verified (pushed by the hub or pulled from it)."""

    __tablename__ = "project_revocations"

    project_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    signer_kid: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text)
    revoked_at: Mapped[str] = mapped_column(String(40))
    received_at: Mapped[str] = mapped_column(String(40))
    envelope: Mapped[dict[str, Any]] = mapped_column(JSON)


class StewardKey(Base):
    """A data steward's own Ed25519 public key, registered on this node by agency IT."""

    __tablename__ = "steward_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    label: Mapped[str] = mapped_column(String(100))
    public_key: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[str] = mapped_column(String(40))


class StewardSignature(Base):
    """The steward's own signature over their latest decision on a project."""

    __tablename__ = "steward_signatures"

    project_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    steward_kid: Mapped[str] = mapped_column(String(64))
    envelope: Mapped[dict[str, Any]] = mapped_column(JSON)
    signed_at: Mapped[str] = mapped_column(String(40))
