"""Building a project's linked extract from a succeeded linkage run (docs/extracts.md).

Three steps, so no database transaction stays open while nodes are asked:

1. :func:`start_extract` (one transaction): the caller is the project's personnel or
   governance, the project is ``ready``, the run succeeded; the variables (optionally a
   subset) are inside the approval — else a 4xx, audited. An ``extracts`` row is created
   ``building`` and the run's clusters and links are read.
2. :func:`_make` (no transaction): fresh person ids, signed extract requests to every node,
   their payloads checked and opened, the tables joined in memory, disclosure control,
   the bundle streamed through AES-256-GCM into ``extracts_dir/<id>.flx`` (0600).
3. :func:`_finish` (one transaction): ``available`` — or ``held`` when disclosure control
   blocked it for the stewards — with the wrapped key stored; earlier extracts of the
   project are destroyed as superseded. On any failure the extract ends ``failed`` with the
   code and reason (audited) and the partial file is shredded.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
from sqlalchemy.orm import Session

from hub.db.models import Extract, Request
from hub.domain.dsa import DataSharingAgreement, ExtractOptions
from hub.domain.lifecycle import RequestStatus
from hub.domain.roles import Caller, Role
from hub.errors import (
    ConfigError,
    ConflictError,
    ExtractBuildError,
    HubError,
    InvalidInputError,
    PermissionDeniedError,
)
from hub.extracts.assembly import (
    AgencyScope,
    apply_disclosure,
    extract_requests,
    links_table,
    persons_table,
    plan_persons,
)
from hub.extracts.bundle import write_bundle
from hub.extracts.crypto import EncryptingWriter, KeyWrapper, new_data_key, shred_file
from hub.extracts.dictionary import build_dictionary
from hub.keys import secure_directory
from hub.node_client import make_node_http_client, node_url
from hub.persistence import agencies as agency_store
from hub.persistence import extracts as store
from hub.persistence import runs as run_store
from hub.services import audit
from hub.services.context import HubContext
from hub.services.extract_nodes import NodeKeys, agency_tables, ask_nodes
from hub.services.extract_policy import is_personnel, visible_project
from hub.services.terms import load_dsa
from protocol.canonical import b64url_encode
from protocol.keyfiles import ed25519_public_from_b64, key_id, x25519_public_from_b64
from protocol.payload import SUITE_NAME, payload_info, seal

S = RequestStatus


def extracts_dir(ctx: HubContext) -> Path:
    directory = Path(ctx.settings.extracts_dir or ctx.settings.dir / "extracts")
    secure_directory(directory)
    return directory


@dataclass
class _Job:
    extract_id: str
    project_id: str
    run_id: str
    agencies: list[str]
    scopes: dict[str, AgencyScope]
    urls: dict[str, str]
    node_keys: dict[str, tuple[str, str]]  # agency → (kid, base64 Ed25519 public key)
    clusters: list[tuple[str, str, int]]
    links: list[tuple[str, str, str, str, float, float]]
    catalog: dict[str, dict[str, dict[str, Any]]]
    options: ExtractOptions
    k: int
    terms: dict[str, Any]
    quality_report: dict[str, Any]
    expires_at: dt.datetime


@dataclass
class _Built:
    path: Path
    data_key: bytes
    sha256: str
    ciphertext_sha256: str
    size: int
    tables: dict[str, int]
    persons: int
    disclosure: dict[str, Any]
    held: bool
    payloads: list[dict[str, Any]]


def _scopes(dsa: DataSharingAgreement,
            variables: dict[str, list[str]] | None) -> dict[str, AgencyScope]:
    """The approved scope per agency, narrowed to ``variables`` when given (never widened)."""
    scopes = {}
    for entry in dsa.variables:
        wanted = entry.variables if variables is None else variables.get(entry.agency)
        if wanted is None:
            continue
        outside = sorted(set(wanted) - set(entry.variables))
        if outside:
            raise InvalidInputError(
                f"variable(s) {', '.join(outside)} of agency {entry.agency} are outside the "
                "approval", code="variable_not_approved")
        if wanted:
            scopes[entry.agency] = AgencyScope(tuple(dict.fromkeys(wanted)), entry.first_year,
                                               entry.last_year)
    unknown = sorted(set(variables or {}) - set(dsa.agencies))
    if unknown:
        raise InvalidInputError(f"agency {', '.join(unknown)} is not part of the approval",
                                code="variable_not_approved")
    return scopes


def _terms(request: Request, dsa: DataSharingAgreement, expires_at: dt.datetime) -> dict[str, Any]:
    return {
        "project_id": request.id, "title": dsa.title, "institution": dsa.institution,
        "allowable_uses": list(dsa.allowable_uses),
        "term_start": str(request.approved_term_start or dsa.term_start),
        "term_end": str(request.approved_term_end or dsa.term_end),
        "expires_at": expires_at.isoformat(), "disposition": dsa.disposition,
        "personnel": [{"name": p.name, "role": p.role, "institution": p.institution}
                      for p in dsa.personnel],
        "security_plan": dsa.security_plan,
    }


def start_extract(session: Session, ctx: HubContext, caller: Caller, *, project_id: str,
                  run_id: str | None = None,
                  variables: dict[str, list[str]] | None = None) -> _Job:
    """Step 1: check and record the request for an extract (``building``)."""
    fields = {"object_type": "extract", "project": project_id}
    try:
        request = visible_project(session, caller, project_id=project_id, lock=True)
        principal = caller.principal
        if not (is_personnel(request, principal)
                or (principal is not None and principal.role == Role.GOVERNANCE)):
            raise PermissionDeniedError("only the project's personnel or governance may "
                                        "build its extract", code="not_personnel")
        if request.status != S.READY:
            raise ConflictError(f"project {project_id} is {request.status}; an extract is "
                                "built from a ready project", code="project_not_ready")
        run = (run_store.get_run(session, run_id=run_id) if run_id
               else run_store.latest_succeeded(session, project_id=project_id))
        if run is None or run.project_id != project_id or run.status != "succeeded":
            raise ConflictError("the project has no such succeeded linkage run",
                                code="no_succeeded_run")
        dsa = load_dsa(request)
        scopes = _scopes(dsa, variables)
        urls, catalog, node_keys = {}, {}, {}
        for agency in scopes:
            row = agency_store.get_agency(session, code=agency)
            if row is None or row.signing_kid is None or row.signing_public_key is None:
                raise ConflictError(f"agency {agency} has no enrolled node key",
                                    code="agency_not_enrolled")
            node_keys[agency] = (row.signing_kid, row.signing_public_key)
            try:
                urls[agency] = node_url(ctx.settings, row.url)
            except ConfigError as exc:
                raise ConflictError(str(exc), code="insecure_node_url") from None
            catalog[agency] = {v.name: {"description": v.description, "type": v.type,
                                        "classification": v.classification,
                                        "quasi_identifier": v.quasi_identifier}
                               for v in agency_store.catalog(session, agency_code=agency)}
    except HubError as exc:
        audit.refuse(session, ctx, caller, exc, action="extract.refused", **fields)
    term_end = request.approved_term_end or dsa.term_end
    expires_at = dt.datetime.combine(term_end + dt.timedelta(days=1), dt.time(), dt.UTC)
    extract_id = f"ext-{secrets.token_hex(8)}"
    store.create_extract(session, values={
        "id": extract_id, "project_id": project_id, "run_id": run.id, "status": "building",
        "requested_by": caller.actor, "created_at": ctx.now(), "expires_at": expires_at,
        "formats": list(dsa.extract.formats), "include_unmatched": dsa.extract.include_unmatched,
        "variables": {a: list(s.variables) for a, s in scopes.items()}, "tables": {},
        "persons": 0, "encryption": "researcher" if dsa.extract.recipient_public_key else "hub",
    })
    audit.record(session, ctx, caller, action="extract.requested", object_id=extract_id,
                 detail={"run_id": run.id, "agencies": sorted(scopes),
                         "variables": sum(len(s.variables) for s in scopes.values())},
                 **fields)
    job = _Job(
        extract_id=extract_id, project_id=project_id, run_id=run.id,
        agencies=list(dsa.agencies), scopes=scopes, urls=urls, node_keys=node_keys,
        clusters=[(c.agency, c.pid, c.cluster_id)
                  for c in run_store.clusters(session, run_id=run.id)],
        links=[(x.agency_a, x.pid_a, x.agency_b, x.pid_b, x.weight, x.probability)
               for x in run_store.links(session, run_id=run.id)],
        catalog=catalog, options=dsa.extract,
        k=dsa.extract.k_anonymity or ctx.settings.disclosure_k,
        terms=_terms(request, dsa, expires_at), quality_report=dict(run.report or {}),
        expires_at=expires_at,
    )
    session.commit()
    return job


def _frame(table: Any, scope: AgencyScope) -> pd.DataFrame:
    if table is None:
        return pd.DataFrame({name: pd.Series(dtype=object)
                             for name in ("person_id", *scope.variables)})
    frame = table.to_pandas(date_as_object=True)
    return frame.sort_values("person_id", ignore_index=True)


def _make(job: _Job, ctx: HubContext, client: httpx.Client, path: Path) -> _Built:
    """Step 2: ask the nodes, assemble, protect, write the encrypted bundle to ``path``."""
    plan = plan_persons(job.clusters, agencies=job.agencies,
                        include_unmatched=job.options.include_unmatched)
    if not plan.persons:
        raise ExtractBuildError("the run releases nobody (no linked person)",
                                code="empty_extract")
    requests = extract_requests(plan, project_id=job.project_id, run_id=job.run_id,
                                scopes=job.scopes, recipient_kid=ctx.keys.hpke_kid)
    keys = NodeKeys(signing=ctx.keys.signing, hpke=ctx.keys.hpke,
                    message_ttl=min(ctx.settings.max_message_ttl, 300), now=ctx.now_ts)
    node_keys = {agency: {kid: ed25519_public_from_b64(public)}
                 for agency, (kid, public) in job.node_keys.items()}
    answers = ask_nodes(client, requests, urls=job.urls, node_keys=node_keys, keys=keys,
                        run_pids={pid for _, pid, _ in job.clusters})
    arrow = agency_tables(answers)
    frames = {a: _frame(arrow.get(a), scope) for a, scope in job.scopes.items()}
    qis = {a: [v for v in s.variables if job.catalog[a][v]["quasi_identifier"]]
           for a, s in job.scopes.items()}
    types = {a: {v: m["type"] for v, m in job.catalog[a].items()} for a in job.scopes}
    released, result = apply_disclosure(frames, quasi_identifiers=qis, types=types, k=job.k,
                                        policy=job.options.quasi_identifier_policy)
    tables = {"persons": persons_table(plan, job.agencies), "links": links_table(job.links, plan),
              **{f"agency_{a}": frame for a, frame in released.items()}}
    disclosure = {"k": job.k, "policy": job.options.quasi_identifier_policy,
                  "quasi_identifiers": sorted(f"{a}.{v}" for a, vs in qis.items() for v in vs),
                  "result": result.report() if result else None,
                  "held_for_stewards": bool(result and result.blocked)}
    dictionary = build_dictionary(
        agencies=job.agencies, released={a: list(s.variables) for a, s in job.scopes.items()},
        catalog=job.catalog, years={a: (s.first_year, s.last_year) for a, s in job.scopes.items()},
        disclosure=None if result is None or result.blocked else result)
    manifest = {"extract_id": job.extract_id, "project_id": job.project_id,
                "run_id": job.run_id, "created_at": ctx.now().isoformat(),
                "expires_at": job.expires_at.isoformat(), "persons": len(plan.persons)}
    data_key = new_data_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as sink:
        writer = EncryptingWriter(sink, data_key, extract_id=job.extract_id)
        write_bundle(writer, manifest=manifest, tables=tables, formats=list(job.options.formats),
                     dictionary=dictionary, quality_report=job.quality_report,
                     disclosure_report=disclosure, terms=job.terms)
        writer.close()
        os.fsync(sink.fileno())
    return _Built(path=path, data_key=data_key, sha256=writer.sha256,
                  ciphertext_sha256=writer.ciphertext_sha256, size=writer.size,
                  tables={n: len(t) for n, t in tables.items()}, persons=len(plan.persons),
                  disclosure=disclosure, held=bool(result and result.blocked),
                  payloads=[{"agency": a.agency, "rows": a.rows, "sha256": a.sha256}
                            for a in answers])


def _recipient_key(options: ExtractOptions, data_key: bytes, *, extract_id: str,
                   project_id: str) -> dict[str, Any] | None:
    if not options.recipient_public_key:
        return None
    public = x25519_public_from_b64(options.recipient_public_key)
    info = {"purpose": "extract_key", "extract": extract_id, "project": project_id}
    sealed = seal(data_key, public, info=payload_info("extract_key", extract=extract_id,
                                                       project=project_id))
    return {"suite": SUITE_NAME, "kid": key_id(public), "info": info,
            "ciphertext": b64url_encode(sealed)}


def _finish(session: Session, ctx: HubContext, caller: Caller, job: _Job,
            built: _Built) -> Extract:
    from hub.services.extract_destruction import destroy_extract

    wrapper = KeyWrapper.from_directory(ctx.settings.dir)
    extract = store.get_extract(session, extract_id=job.extract_id, lock=True)
    assert extract is not None
    extract.status = "held" if built.held else "available"
    extract.finished_at = ctx.now()
    extract.file_name = built.path.name
    extract.size_bytes, extract.sha256 = built.size, built.sha256
    extract.ciphertext_sha256 = built.ciphertext_sha256
    extract.tables, extract.persons = built.tables, built.persons
    extract.disclosure = built.disclosure
    extract.recipient_key = _recipient_key(job.options, built.data_key,
                                           extract_id=job.extract_id,
                                           project_id=job.project_id)
    store.add_key(session, extract_id=job.extract_id, kwk_id=wrapper.kid,
                  wrapped_key=wrapper.wrap(built.data_key, extract_id=job.extract_id),
                  now=ctx.now())
    fields = {"object_type": "extract", "object_id": job.extract_id,
              "project": job.project_id}
    for payload in built.payloads:
        audit.record(session, ctx, caller, action="extract.node_payload",
                     agency=payload["agency"], detail={"run_id": job.run_id, **payload},
                     **fields)
    audit.record(session, ctx, caller, action="extract.built", detail={
        "status": extract.status, "persons": built.persons, "tables": built.tables,
        "sha256": built.sha256, "bytes": built.size, "encryption": extract.encryption},
        **fields)
    older = [e.id for e in store.list_extracts(session, project_ids=[job.project_id],
                                               statuses=["available", "held"])
             if e.id != job.extract_id]
    session.commit()
    for old in older:
        destroy_extract(ctx, caller, extract_id=old, reason="superseded")
    return extract


def _fail(session: Session, ctx: HubContext, caller: Caller, job: _Job, path: Path,
          exc: Exception) -> None:
    code = exc.code if isinstance(exc, HubError) else "internal_error"
    reason = str(exc)[:1000] if isinstance(exc, HubError) else type(exc).__name__
    session.rollback()
    extract = store.get_extract(session, extract_id=job.extract_id, lock=True)
    assert extract is not None
    extract.status, extract.finished_at = "failed", ctx.now()
    extract.failure_code, extract.failure_reason = code, reason
    # A node's own refusal code may outgrow the (clipped) outcome: the detail keeps it.
    audit.record(session, ctx, caller, action="extract.failed",
                 outcome=f"refused:{code}", object_type="extract",
                 object_id=job.extract_id, project=job.project_id,
                 agency=getattr(exc, "agency", None) or "",
                 detail={"code": code, "reason": reason})
    session.commit()
    shred_file(path)


def build_extract(session: Session, ctx: HubContext, caller: Caller, *, project_id: str,
                  run_id: str | None = None, variables: dict[str, list[str]] | None = None,
                  client: httpx.Client | None = None) -> Extract:
    """Build the project's extract now; :class:`ExtractBuildError` if a node or the run
    lets it down (the extract is then ``failed`` with the reason). ``session`` is committed
    before the nodes are asked, so no transaction (nor SQLite's write lock) is held then."""
    job = start_extract(session, ctx, caller, project_id=project_id, run_id=run_id,
                        variables=variables)
    path = extracts_dir(ctx) / f"{job.extract_id}.flx"
    http = client or make_node_http_client(ctx.settings)
    try:
        built = _make(job, ctx, http, path)
    except Exception as exc:
        _fail(session, ctx, caller, job, path, exc)
        raise
    finally:
        if client is None:
            http.close()
    return _finish(session, ctx, caller, job, built)
