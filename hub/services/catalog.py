"""The catalog: every agency's living data dictionary, published by its node as a
node-signed ``dictionary_update`` and read by researchers before they request.

Three readings, each a strict subset of the one before:

* :func:`catalog` — ``GET /v1/catalog`` and the ``/catalog`` page, any signed-in role:
  descriptions, years, completeness per year, code lists (counts below the disclosure
  threshold are ``null``), placeholder flags;
* :func:`public_summary` — ``GET /v1/public/catalog`` and ``/public/catalog``, nobody
  signed in: variables, descriptions, years and classification only — no counts, no
  completeness, no codes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session

from hub.db.models import CatalogVariable as CatalogRow
from hub.domain.roles import Caller
from hub.errors import DecisionRefusedError, HubError
from hub.persistence import agencies as store
from hub.persistence.nonces import DbReplayGuard
from hub.services import audit
from hub.services.context import HubContext
from hub.services.identifier_variables import refuse_identifier_names
from protocol.errors import ProtocolError
from protocol.keyfiles import ed25519_public_from_b64
from protocol.signing import verify
from protocol.wire import CatalogVariable, DictionaryUpdate, body_as


def catalog_rows(dictionary: Iterable[CatalogVariable], *,
                 min_cell: int) -> list[dict[str, Any]]:
    """Catalog rows for :func:`hub.persistence.agencies.replace_catalog`. Counts below
    ``min_cell`` are dropped here too, whatever threshold the node applied."""
    return [
        {"name": v.name, "description": v.description, "type": v.type,
         "years": list(v.years), "classification": v.classification,
         "quasi_identifier": v.quasi_identifier,
         "completeness": [c.model_dump() for c in v.completeness],
         "codes": [{"code": c.code, "label": c.label,
                    "count": c.count if c.count is not None and c.count >= min_cell
                    else None} for c in v.codes],
         "description_placeholder": v.description_placeholder}
        for v in dictionary
    ]


def publish_dictionary(session: Session, ctx: HubContext, caller: Caller, *,
                       body: bytes) -> dict[str, Any]:
    """Verify a node-signed dictionary update (this agency's enrolled key, fresh nonce,
    newer than the last one) and replace the agency's catalog and its person-id
    declaration with it, audited."""
    principal = caller.principal
    assert principal is not None and principal.agency is not None
    fields = {"object_type": "agency", "object_id": principal.agency,
              "agency": principal.agency}
    try:
        agency = store.get_agency(session, code=principal.agency)
        if agency is None or agency.signing_kid is None or agency.signing_public_key is None:
            raise DecisionRefusedError("this agency has no enrolled signing key",
                                       code="not_enrolled", status=403)
        keyring = {agency.signing_kid: ed25519_public_from_b64(agency.signing_public_key)}
        envelope = verify(body, keyring=keyring, expected_typ=DictionaryUpdate.TYP,
                          replay_guard=DbReplayGuard(session), now=ctx.now_ts(),
                          max_ttl=ctx.settings.max_message_ttl)
        update = body_as(envelope, DictionaryUpdate)
        refuse_identifier_names((v.name for v in update.dictionary), agency=agency.code)
        if update.agency != agency.code:
            raise DecisionRefusedError(
                f"the dictionary is for agency {update.agency}, not this node's "
                f"{agency.code}", code="wrong_agency", status=403)
        last = agency.dictionary_published_at
        if last is not None and update.published_at <= last:
            raise DecisionRefusedError(
                "a newer dictionary of this agency was already accepted; publish again",
                code="stale_dictionary")
    except (HubError, ProtocolError) as exc:
        audit.refuse(session, ctx, caller, exc, action="catalog.publish_refused", **fields)
    previous = {v.name: list(v.years) for v in store.catalog(session, agency_code=agency.code)}
    store.replace_catalog(session, agency_code=agency.code,
                          variables=catalog_rows(update.dictionary,
                                                 min_cell=ctx.settings.disclosure_min_cell))
    agency.dictionary_published_at = update.published_at
    # The declaration travels with every update; the next run follows the newest one.
    previous_person_ids, agency.person_ids = agency.person_ids, update.person_ids
    changed_years = sorted(v.name for v in update.dictionary
                           if previous.get(v.name) != list(v.years))
    audit.record(session, ctx, caller, action="catalog.published", detail={
        "kid": envelope.kid, "variables": len(update.dictionary),
        "years_changed": changed_years[:50],
        "placeholders": sum(v.description_placeholder for v in update.dictionary),
        "person_ids": update.person_ids,
        "person_ids_changed": previous_person_ids != update.person_ids},
        **fields)
    session.commit()
    return {"agency": agency.code, "variables": len(update.dictionary),
            "published_at": update.published_at.isoformat(), "person_ids": update.person_ids}


def _row_view(row: CatalogRow) -> dict[str, Any]:
    return {"agency": row.agency_code, "variable": row.name, "description": row.description,
            "description_placeholder": row.description_placeholder, "type": row.type,
            "years": list(row.years), "classification": row.classification,
            "quasi_identifier": row.quasi_identifier,
            "completeness": list(row.completeness or []), "codes": list(row.codes or [])}


def catalog(session: Session, *, agency: str | None = None) -> list[dict[str, Any]]:
    """The merged dictionaries of every enrolled node, for signed-in users: names, nature,
    years, completeness and code lists (small counts suppressed) — never a record value."""
    return [_row_view(v) for v in store.catalog(session, agency_code=agency)]


def public_summary(session: Session) -> list[dict[str, Any]]:
    """Per agency, what data it offers — variables, descriptions, years, classification.
    Nothing derived from counting records (no counts, completeness or codes)."""
    agencies = {a.code: a for a in store.list_agencies(session)}
    out: dict[str, dict[str, Any]] = {}
    for row in store.catalog(session):
        agency = agencies.get(row.agency_code)
        if agency is None or agency.enrolled_at is None:
            continue
        entry = out.setdefault(row.agency_code, {
            "agency": row.agency_code, "name": agency.name,
            "updated_at": (agency.dictionary_published_at or agency.enrolled_at).isoformat(),
            "variables": []})
        entry["variables"].append({
            "variable": row.name,
            "description": "" if row.description_placeholder else row.description,
            "years": list(row.years), "classification": row.classification})
    return list(out.values())
