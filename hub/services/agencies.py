"""Agencies: registration with a one-time enrollment token, node enrollment, the catalog."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy.orm import Session

from hub.db.models import Agency
from hub.domain.roles import Caller
from hub.domain.tokens import hash_token, new_token
from hub.errors import ConflictError, EnrollmentError, InvalidInputError, NotFoundError
from hub.keys import load_assembly_public, load_assembly_signing_public
from hub.persistence import agencies as store
from hub.services import audit
from hub.services.catalog import catalog as catalog_view
from hub.services.catalog import catalog_rows
from hub.services.context import HubContext
from hub.services.identifier_variables import refuse_identifier_names
from hub.services.users import issue_node_token
from protocol.keyfiles import key_id, public_key_to_b64
from protocol.wire import EnrollmentRequest, EnrollmentResponse

ENROLLMENT_TOKEN_PREFIX = "fle_"  # noqa: S105 - a label, not a secret
_CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


def agency_view(agency: Agency) -> dict[str, Any]:
    return {
        "code": agency.code, "name": agency.name, "url": agency.url,
        "enrolled": agency.enrolled_at is not None,
        "enrolled_at": agency.enrolled_at.isoformat() if agency.enrolled_at else None,
        "signing_kid": agency.signing_kid,
        # "unique" or "may_duplicate": whether linkage runs deduplicate this agency.
        "person_ids": agency.person_ids,
        # The node's key as a transparency-log witness (auditors should pin their own copy).
        "signing_public_key": agency.signing_public_key,
    }


def add_agency(
    session: Session, ctx: HubContext, caller: Caller, *, code: str, name: str, url: str
) -> tuple[Agency, str]:
    """Register an agency; returns it and its one-time enrollment token (shown once)."""
    if not _CODE.fullmatch(code):
        raise InvalidInputError("agency code must be 1-32 letters, digits, '-' or '_'")
    if not url.startswith(("http://", "https://")):
        raise InvalidInputError("agency url must start with http:// or https://")
    if not name.strip():
        raise InvalidInputError("agency name must not be empty")
    if store.get_agency(session, code=code) is not None:
        raise ConflictError(f"agency {code!r} already exists (change it or issue a "
                            "re-enrolment token with `fedlink hub agency update`)",
                            code="agency_exists")
    agency = store.create_agency(session, code=code, name=name.strip(), url=url)
    token = _new_enrollment_token(session, ctx, code=code)
    audit.record(session, ctx, caller, action="agency.created", object_type="agency",
                 object_id=code, agency=code)
    session.commit()
    return agency, token


def _new_enrollment_token(session: Session, ctx: HubContext, *, code: str) -> str:
    token = new_token(ENROLLMENT_TOKEN_PREFIX)
    expires = ctx.now() + dt.timedelta(hours=ctx.settings.enrollment_token_ttl_hours)
    store.create_enrollment_token(session, agency_code=code, token_hash=hash_token(token),
                                  expires_at=expires)
    return token


def enroll(
    session: Session, ctx: HubContext, caller: Caller, *, request: EnrollmentRequest
) -> EnrollmentResponse:
    """Check and burn the token, store the node's key, dictionary and person-id
    declaration, answer the hub's keys and a fresh node API token (docs/protocol.md)."""
    row = store.find_enrollment_token(session, token_hash=hash_token(request.enrollment_token))
    fields = {"object_type": "agency", "object_id": request.agency, "agency": request.agency}
    if row is None or row.agency_code != request.agency:
        audit.refuse(session, ctx, caller,
                     EnrollmentError("enrollment token is not valid for this agency"),
                     action="agency.enrollment", **fields)
    if row.used_at is not None:
        audit.refuse(session, ctx, caller,
                     EnrollmentError("enrollment token was already used",
                                     code="enrollment_token_used", status=409),
                     action="agency.enrollment", **fields)
    if row.expires_at <= ctx.now():
        audit.refuse(session, ctx, caller,
                     EnrollmentError("enrollment token has expired",
                                     code="enrollment_token_expired"),
                     action="agency.enrollment", **fields)
    try:  # before the token is burnt: the node can fix its variables and enrol again
        refuse_identifier_names((v.name for v in request.dictionary), agency=request.agency)
    except InvalidInputError as exc:
        audit.refuse(session, ctx, caller, exc, action="agency.enrollment", **fields)
    agency = store.get_agency(session, code=request.agency)
    assert agency is not None  # the token's foreign key guarantees it
    now = ctx.now()
    row.used_at = now
    previous_kid = agency.signing_kid if agency.enrolled_at is not None else None
    agency.signing_public_key = request.signing_public_key
    agency.signing_kid = request.signing_kid
    agency.enrolled_at = now
    agency.person_ids = request.person_ids
    # Re-enrolment starts the dictionary sequence afresh with the new key.
    agency.dictionary_published_at = None
    store.replace_catalog(
        session, agency_code=agency.code,
        variables=catalog_rows(request.dictionary, min_cell=ctx.settings.disclosure_min_cell),
    )
    issued = issue_node_token(session, ctx, agency=agency.code)
    if previous_kid is not None:
        # Re-enrolment with an operator-issued token (the old key may be lost or stolen,
        # so it is not asked to sign): the rotation is on the record, old and new kid.
        audit.record(session, ctx, caller, action="agency.key_rotated", detail={
            "old_signing_kid": previous_kid, "signing_kid": agency.signing_kid}, **fields)
    audit.record(session, ctx, caller, action="agency.enrolled", detail={
        "signing_kid": agency.signing_kid, "variables": len(request.dictionary),
        "person_ids": request.person_ids, "reenrolment": previous_kid is not None}, **fields)
    session.commit()
    return EnrollmentResponse(
        agency=agency.code,
        hub_signing_public_key=public_key_to_b64(ctx.keys.signing_public),
        hub_signing_kid=ctx.keys.signing_kid,
        hub_hpke_public_key=public_key_to_b64(ctx.keys.hpke_public),
        hub_hpke_kid=ctx.keys.hpke_kid,
        node_token=issued.token,
        **_assembly_key(ctx),
    )


def _assembly_key(ctx: HubContext) -> dict[str, str]:
    """The assembly role's public keys the nodes pin (hub/assembly): the HPKE key extract
    payloads are sealed to and the signing key of extract requests. Only their public
    halves are in the hub directory — the linkage role never holds the private keys."""
    keys: dict[str, str] = {}
    public = load_assembly_public(ctx.settings.dir)
    if public is not None:
        keys |= {"assembly_hpke_public_key": public_key_to_b64(public),
                 "assembly_hpke_kid": key_id(public)}
    signing = load_assembly_signing_public(ctx.settings.dir)
    if signing is not None:
        keys |= {"assembly_signing_public_key": public_key_to_b64(signing),
                 "assembly_signing_kid": key_id(signing)}
    return keys


def list_agencies(session: Session) -> list[dict[str, Any]]:
    return [agency_view(a) for a in store.list_agencies(session)]


def catalog(session: Session, *, agency: str | None = None) -> list[dict[str, Any]]:
    """The merged data dictionaries of every enrolled node (:mod:`hub.services.catalog`)."""
    return catalog_view(session, agency=agency)


def update_agency(session: Session, ctx: HubContext, caller: Caller, *, code: str,
                  name: str | None = None, url: str | None = None,
                  reenrol: bool = False) -> tuple[Agency, str | None]:
    """Change an agency's name or node URL and/or issue a fresh one-time enrollment token
    for re-enrolment (a new node key; earlier unused tokens of the agency stop working).
    Returns the agency and the token, shown once."""
    agency = store.get_agency(session, code=code)
    if agency is None:
        raise NotFoundError(f"agency {code!r} does not exist")
    if name is None and url is None and not reenrol:
        raise InvalidInputError("nothing to update: give a name, a url or ask to re-enrol")
    changed: dict[str, str] = {}
    if url is not None:
        if not url.startswith(("http://", "https://")):
            raise InvalidInputError("agency url must start with http:// or https://")
        changed["url"] = agency.url = url
    if name is not None:
        if not name.strip():
            raise InvalidInputError("agency name must not be empty")
        changed["name"] = agency.name = name.strip()
    token = None
    if reenrol:
        store.expire_enrollment_tokens(session, agency_code=code, now=ctx.now())
        token = _new_enrollment_token(session, ctx, code=code)
    audit.record(session, ctx, caller, action="agency.updated", object_type="agency",
                 object_id=code, agency=code,
                 detail={"fields": sorted(changed), "reenrolment_token": reenrol})
    session.commit()
    return agency, token
