"""Governance that nodes verify themselves: the roster, signed decisions and revocations.

Governance members each hold an Ed25519 key of their own (never the hub's). Three kinds of
signed statement exist, each a :class:`~protocol.signing.SignedEnvelope`:

* a **roster** (:class:`Roster`, ``governance_roster``): the members' public keys and the
  quorum, versioned. Version 1 is signed by a quorum of its *own* members (so each listed
  key is proven held) and pinned by every node at enrollment by its fingerprint
  (:func:`roster_digest`), which agencies compare out of band. Version ``n + 1`` names the
  digest of version ``n`` and is valid only when signed by at least ``quorum`` distinct
  members of version ``n`` (:func:`advance_roster`) — so the roster changes only by a
  signed quorum of the current roster, and a hub can relay updates but not forge one;
* a **governance decision** (:class:`GovernanceDecision`): a member approves or denies
  the project-wide terms (:class:`protocol.project.ProjectTerms`, the same per-agency terms
  digests the stewards sign). :func:`require_quorum` is what a node runs: at least
  ``quorum`` distinct members of its roster approved exactly this project digest, and none
  denied it;
* a **revocation** (:class:`Revocation`): ends a project. One roster member suffices (it
  only removes access; a single honest member can always stop a project), and so does the
  steward of an agency of the project, for that agency's node.

These are standing statements, not requests: :func:`verify_statement` checks version,
signer, signature and type but neither expiry nor replay — a decision is meant to be
re-checked for as long as the project runs; it stops counting when the roster drops its
signer, a revocation arrives, or the term ends by the node's own clock.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, ClassVar, Final, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import Field, StrictInt, StrictStr, ValidationError, field_validator, model_validator

from protocol import PROTOCOL_VERSION
from protocol.canonical import b64url_decode, canonical_json
from protocol.errors import (
    BadSignatureError,
    MalformedMessageError,
    ProtocolError,
    UnknownKeyError,
    UnsupportedVersionError,
    WrongMessageTypeError,
)
from protocol.keyfiles import (
    ED25519_KID_PATTERN,
    ed25519_public_from_b64,
    key_id,
    public_key_to_b64,
)
from protocol.project import ProjectTerms, project_digest
from protocol.signing import SignedEnvelope, describe_validation_error, sign
from protocol.wire_types import (
    AgencyCode,
    Ed25519Key,
    HexDigest,
    Identifier,
    Message,
    Text,
    Timestamp,
    WireModel,
)

MAX_MEMBERS: Final = 64
#: Statements are long-lived; ``exp`` is set far ahead and not checked (module docstring).
STATEMENT_TTL: Final = 20 * 366 * 24 * 3600
_ROSTER_DOMAIN: Final = b"fedlink/2 governance-roster\n"

Kid = Annotated[StrictStr, Field(pattern=ED25519_KID_PATTERN)]


class GovernanceError(ProtocolError):
    """A governance statement or set of statements that does not authorise what is asked.

    ``reason`` is one of ``no_governance_quorum``, ``governance_denied``,
    ``roster_not_quorum``, ``roster_chain_broken``, ``not_a_member``.
    """

    reason = "governance_error"


# --- the roster ------------------------------------------------------------------------------


class RosterMember(WireModel):
    """One governance member: a label (a role or name the agencies recognise) and a key."""

    label: Annotated[StrictStr, Field(min_length=1, max_length=100)]
    kid: Kid
    public_key: Ed25519Key

    @model_validator(mode="after")
    def _kid_is_key(self) -> RosterMember:
        if key_id(ed25519_public_from_b64(self.public_key)) != self.kid:
            raise ValueError("kid is not the id of public_key")
        return self


class Roster(Message):
    """Version ``version`` of the governance roster: members (sorted by kid) and quorum."""

    TYP: ClassVar[str] = "governance_roster"
    version: Annotated[StrictInt, Field(ge=1, le=2**31)]
    previous: HexDigest | None = None
    quorum: Annotated[StrictInt, Field(ge=1, le=MAX_MEMBERS)]
    members: tuple[RosterMember, ...] = Field(min_length=1, max_length=MAX_MEMBERS)

    @field_validator("members")
    @classmethod
    def _sorted_unique(cls, members: tuple[RosterMember, ...]) -> tuple[RosterMember, ...]:
        kids = [m.kid for m in members]
        if kids != sorted(set(kids)):
            raise ValueError("members must be sorted by kid, each listed once")
        return members

    @model_validator(mode="after")
    def _consistent(self) -> Roster:
        if (self.version == 1) != (self.previous is None):
            raise ValueError("version 1 has no previous roster; every later version names one")
        if self.quorum > len(self.members):
            raise ValueError("quorum is larger than the roster")
        return self

    def keyring(self) -> dict[str, Ed25519PublicKey]:
        """kid → public key of every member."""
        return {m.kid: ed25519_public_from_b64(m.public_key) for m in self.members}


def roster_digest(roster: Roster) -> str:
    """The roster's fingerprint: hex SHA-256 of a domain tag and its canonical JSON."""
    return hashlib.sha256(
        _ROSTER_DOMAIN + canonical_json(roster.model_dump(mode="json"))).hexdigest()


def show_fingerprint(digest: str) -> str:
    """A fingerprint grouped for reading aloud: ``1a2b-3c4d-…`` (all 64 hex digits)."""
    return "-".join(digest[i:i + 4] for i in range(0, len(digest), 4))


def new_roster(members: Iterable[tuple[str, Ed25519PublicKey]], *, quorum: int,
               previous: Roster | None = None) -> Roster:
    """The next roster (version 1 when ``previous`` is None) of ``(label, key)`` members."""
    listed = sorted(
        ({"label": label, "kid": key_id(key), "public_key": public_key_to_b64(key)}
         for label, key in members), key=lambda m: m["kid"])
    return Roster.model_validate({
        "version": 1 if previous is None else previous.version + 1,
        "previous": None if previous is None else roster_digest(previous),
        "quorum": quorum, "members": listed,
    })


def sign_statement(body: Message, private_key: Ed25519PrivateKey) -> SignedEnvelope:
    """Sign a roster, decision or revocation as a standing statement."""
    return sign(body, typ=body.TYP, private_key=private_key, ttl_seconds=STATEMENT_TTL)


def verify_statement(envelope: SignedEnvelope, *, keyring: Mapping[str, Ed25519PublicKey],
                     typ: str) -> SignedEnvelope:
    """Version, signer (in ``keyring``), signature and type of a standing statement."""
    if envelope.v != PROTOCOL_VERSION:
        raise UnsupportedVersionError(f"protocol version {envelope.v!r} is not supported")
    public_key = keyring.get(envelope.kid)
    if public_key is None:
        raise UnknownKeyError(f"key {envelope.kid!r} is not a member's key")
    try:
        public_key.verify(b64url_decode(envelope.sig), envelope.signing_input())
    except (InvalidSignature, ValueError):
        raise BadSignatureError(f"the signature of {envelope.kid} does not verify") from None
    if envelope.typ != typ:
        raise WrongMessageTypeError(f"expected a {typ!r} statement, got {envelope.typ!r}")
    return envelope


def _body(envelope: SignedEnvelope, model: type[Message]) -> Message:
    if envelope.body.get("protocol_version", PROTOCOL_VERSION) != PROTOCOL_VERSION:
        raise UnsupportedVersionError("body protocol version is not supported")
    try:
        return model.model_validate(envelope.body)
    except ValidationError as exc:
        raise MalformedMessageError(describe_validation_error(exc)) from None


def _roster_signed_by(envelopes: Iterable[SignedEnvelope], signers: Roster) -> Roster:
    """The one roster every envelope signs, signed by ``signers.quorum`` distinct members
    of ``signers`` (envelopes by non-members or with bad signatures do not count)."""
    bodies, valid = set(), set()
    roster: Roster | None = None
    keyring = signers.keyring()
    for envelope in envelopes:
        candidate = _body(envelope, Roster)
        assert isinstance(candidate, Roster)
        bodies.add(canonical_json(candidate.model_dump(mode="json")))
        roster = candidate
        try:
            verify_statement(envelope, keyring=keyring, typ=Roster.TYP)
        except ProtocolError:
            continue
        valid.add(envelope.kid)
    if roster is None:
        raise GovernanceError("no signed roster was given", reason="roster_not_quorum")
    if len(bodies) != 1:
        raise GovernanceError("the signatures are over different rosters",
                              reason="roster_not_quorum")
    if len(valid) < signers.quorum:
        raise GovernanceError(
            f"roster version {roster.version} carries {len(valid)} valid signature(s) of "
            f"members of roster version {signers.version}; its quorum is {signers.quorum}",
            reason="roster_not_quorum")
    return roster


def verify_genesis(envelopes: Iterable[SignedEnvelope], *, fingerprint: str | None) -> Roster:
    """Roster version 1, signed by a quorum of its own members; when ``fingerprint`` is
    given (checked out of band), its digest must be that fingerprint."""
    items = list(envelopes)
    if not items:
        raise GovernanceError("no signed roster was given", reason="roster_not_quorum")
    claimed = _body(items[0], Roster)
    assert isinstance(claimed, Roster)
    if claimed.version != 1:
        raise GovernanceError("the first roster must be version 1", reason="roster_chain_broken")
    wanted = fingerprint.replace("-", "").lower() if fingerprint else None
    if wanted is not None and roster_digest(claimed) != wanted:
        raise GovernanceError("the roster's fingerprint is not the one checked out of band",
                              reason="roster_chain_broken")
    return _roster_signed_by(items, claimed)


def advance_roster(current: Roster, envelopes: Iterable[SignedEnvelope]) -> Roster:
    """The next roster version, or :class:`GovernanceError`: it must name ``current`` as
    its previous version and be signed by a quorum of ``current``'s members."""
    roster = _roster_signed_by(envelopes, current)
    if roster.version != current.version + 1 or roster.previous != roster_digest(current):
        raise GovernanceError(
            f"roster version {roster.version} does not follow version {current.version}",
            reason="roster_chain_broken")
    return roster


def follow_chain(pinned: Roster, updates: Iterable[Iterable[SignedEnvelope]]) -> Roster:
    """Apply each update in order (:func:`advance_roster`); the last roster reached."""
    current = pinned
    for update in updates:
        current = advance_roster(current, update)
    return current


# --- decisions and revocations ------------------------------------------------------------------


class CriterionAnswer(WireModel):
    """A member's answer to one criterion of the governance body's review checklist."""

    id: Annotated[StrictStr, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")] = Field(
        description="The criterion's id in the hub's checklist (`review_criteria`)",
        examples=["minimum_necessary"])
    met: bool = Field(description="true: the request meets it; false: it does not (say why "
                      "in `note`)", examples=[True])
    note: Annotated[StrictStr, Field(max_length=2000)] = Field(
        default="", description="The member's note (required when `met` is false)",
        examples=["Only the three years the questions need."])


class GovernanceDecision(Message):
    """A member's approve/deny of the project-wide terms (``project_digest`` of them).

    ``criteria`` are the member's answers to the hub's review checklist, signed with the
    decision; a statement made before checklists existed has none and still verifies."""

    TYP: ClassVar[str] = "governance_decision"
    project_id: Identifier
    decision: Literal["approve", "deny"]
    reason: Text = ""
    #: A denial's reason written for the public (the hub requires it with ``deny``).
    public_reason: Text = ""
    project_terms: ProjectTerms
    project_digest: HexDigest
    decided_at: Timestamp
    criteria: tuple[CriterionAnswer, ...] = Field(default=(), max_length=50)

    @model_validator(mode="after")
    def _consistent(self) -> GovernanceDecision:
        if self.project_terms.project_id != self.project_id:
            raise ValueError("project_terms.project_id differs from project_id")
        if project_digest(self.project_terms) != self.project_digest:
            raise ValueError("project_digest is not the digest of project_terms")
        if self.decision == "deny" and not self.reason.strip():
            raise ValueError("a denial needs a reason")
        ids = [answer.id for answer in self.criteria]
        if len(set(ids)) != len(ids):
            raise ValueError("criteria answer a criterion more than once")
        return self


class Revocation(Message):
    """Ends a project: signed by one roster member, or by a steward for its own agency
    (``agency`` then names it)."""

    TYP: ClassVar[str] = "project_revocation"
    project_id: Identifier
    reason: Annotated[StrictStr, Field(min_length=1, max_length=2000)]
    revoked_at: Timestamp
    agency: AgencyCode | None = None


@dataclass(frozen=True)
class Quorum:
    """What :func:`require_quorum` found: the approving members' kids."""

    approvers: frozenset[str]
    roster_version: int


def require_quorum(roster: Roster, envelopes: Iterable[SignedEnvelope], *, project_id: str,
                   digest: str) -> Quorum:
    """At least ``roster.quorum`` distinct members approved exactly ``digest`` for
    ``project_id``, and no member denied it. Statements by non-members, with bad
    signatures or about other terms do not count (their number is in the message)."""
    keyring = roster.keyring()
    approvers: set[str] = set()
    ignored = 0
    for envelope in envelopes:
        try:
            verify_statement(envelope, keyring=keyring, typ=GovernanceDecision.TYP)
            body = _body(envelope, GovernanceDecision)
        except ProtocolError:
            ignored += 1
            continue
        assert isinstance(body, GovernanceDecision)
        if body.project_id != project_id or body.project_digest != digest:
            ignored += 1
            continue
        if body.decision == "deny":
            raise GovernanceError(f"governance member {envelope.kid} denied project "
                                  f"{project_id}", reason="governance_denied")
        approvers.add(envelope.kid)
    if len(approvers) < roster.quorum:
        note = (f" ({ignored} statement(s) did not verify or were for other terms)"
                if ignored else "")
        raise GovernanceError(
            f"{len(approvers)} of the {roster.quorum} governance approvals roster version "
            f"{roster.version} needs for these terms{note}", reason="no_governance_quorum")
    return Quorum(approvers=frozenset(approvers), roster_version=roster.version)


def verify_revocation(envelope: SignedEnvelope, *, roster: Roster | None,
                      stewards: Mapping[str, Ed25519PublicKey], project_id: str) -> Revocation:
    """A revocation of ``project_id`` signed by a member of ``roster`` or by a key in
    ``stewards`` (kid → key of the stewards whose revocation this verifier honours)."""
    keyring: dict[str, Ed25519PublicKey] = dict(stewards)
    if roster is not None:
        keyring.update(roster.keyring())
    verify_statement(envelope, keyring=keyring, typ=Revocation.TYP)
    body = _body(envelope, Revocation)
    assert isinstance(body, Revocation)
    if body.project_id != project_id:
        raise MalformedMessageError("the revocation names another project")
    return body
