"""Building a linked extract in the assembly role (docs/extracts.md, "Assembly").

:func:`assemble_extract` takes an extract the hub API recorded ``building`` and, with no
transaction open while nodes are asked:

1. :func:`load_job` reads the approval, the nodes' URLs and enrolled keys, and the run's
   clusters and links (pseudonymous ids, never a token table);
2. :func:`_make`: fresh person ids, extract requests signed with the **assembly signing
   key** and naming the **assembly HPKE key** as recipient, each payload checked and
   opened with that key, the tables joined in memory, disclosure control, the bundle
   streamed through AES-256-GCM into ``extracts_dir/<id>.flx`` (0600);
3. :func:`_finish` (one transaction): ``available`` — or ``held`` when disclosure control
   blocked it for the stewards — with the wrapped key stored; earlier extracts of the
   project are destroyed as superseded. On any failure :func:`_fail` ends the extract
   ``failed`` with the code and reason (audited) and shreds the partial file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
from sqlalchemy.orm import Session

from hub.assembly.context import AssemblyContext
from hub.db.models import Extract
from hub.disclosure.diversity import protect_tables
from hub.domain.classification import Protection
from hub.domain.dsa import ExtractOptions
from hub.domain.roles import Caller, Principal
from hub.errors import ExtractBuildError, HubError
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
from hub.extracts.periods import grain, sort_rows
from hub.keys import secure_directory
from hub.node_client import make_node_http_client
from hub.persistence import extracts as store
from hub.persistence import requests as request_store
from hub.persistence import runs as run_store
from hub.services import audit
from hub.services.classification import extract_protection
from hub.services.context import HubContext
from hub.services.extract_build import (
    agency_scopes,
    extract_terms,
    node_target,
    variable_catalog,
)
from hub.services.extract_destruction import destroy_extract
from hub.services.extract_nodes import NodeKeys, agency_tables, ask_nodes
from hub.services.terms import extract_terms_options_of, load_dsa
from protocol.canonical import b64url_encode
from protocol.keyfiles import ed25519_public_from_b64, key_id, x25519_public_from_b64
from protocol.payload import SUITE_NAME, payload_info, seal
from protocol.wire import ExtractTermsOptions


def assembler_caller(worker_id: str) -> Caller:
    """How the audit log names the assembly role's work."""
    return Caller(Principal(kind="assembler", id=None, role="assembler"),
                  source=worker_id[:64])


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
    #: The agencies the run deduplicated: a cluster may hold several of their pids.
    deduplicated: list[str]
    catalog: dict[str, dict[str, dict[str, Any]]]
    options: ExtractOptions
    k: int
    #: Protection by classification (docs/classification.md): k floor, l / t of sensitive
    #: variables, for the strictest level among the extract's variables.
    protection: Protection
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


def load_job(session: Session, ctx: HubContext, *, extract_id: str) -> _Job | None:
    """What building ``extract_id`` needs, or None when it is no longer ``building``."""
    extract = store.get_extract(session, extract_id=extract_id)
    if extract is None or extract.status != "building":
        return None
    request = request_store.get_request(session, request_id=extract.project_id)
    run = run_store.get_run(session, run_id=extract.run_id)
    if request is None or run is None:
        raise ExtractBuildError("the extract's project or run is gone", code="no_succeeded_run")
    dsa = load_dsa(request)
    scopes = agency_scopes(dsa, dict(extract.variables or {}))
    urls, node_keys, catalog = {}, {}, {}
    for agency in scopes:
        urls[agency], node_keys[agency] = node_target(session, ctx, agency)
        catalog[agency] = variable_catalog(session, agency)
    protection = extract_protection(ctx, catalog,
                                    {a: list(s.variables) for a, s in scopes.items()},
                                    base_k=dsa.extract.k_anonymity or ctx.settings.disclosure_k)
    if not protection.record_level_download:
        # Refused when the extract was asked; the catalog may have changed since.
        raise ExtractBuildError(
            f"the extract holds {protection.level} variables, released as outputs only "
            "(docs/classification.md)", code="record_level_not_allowed")
    return _Job(
        extract_id=extract.id, project_id=extract.project_id, run_id=run.id,
        agencies=list(dsa.agencies), scopes=scopes, urls=urls, node_keys=node_keys,
        clusters=[(c.agency, c.pid, c.cluster_id)
                  for c in run_store.clusters(session, run_id=run.id)],
        links=[(x.agency_a, x.pid_a, x.agency_b, x.pid_b, x.weight, x.probability)
               for x in run_store.links(session, run_id=run.id)],
        deduplicated=list(run.deduplicated or []),
        catalog=catalog, options=dsa.extract,
        k=protection.k, protection=protection,
        terms=extract_terms(request, dsa, extract.expires_at),
        quality_report=dict(run.report or {}), expires_at=extract.expires_at,
    )


def _frame(table: Any, scope: AgencyScope) -> pd.DataFrame:
    if table is None:
        return pd.DataFrame({name: pd.Series(dtype=object)
                             for name in ("person_id", *scope.variables)})
    frame = table.to_pandas(date_as_object=True)
    # By person id, then period (a longitudinal payload has several rows per person).
    return sort_rows(frame)


def _make(job: _Job, actx: AssemblyContext, client: httpx.Client, path: Path) -> _Built:
    """Ask the nodes, assemble, protect, write the encrypted bundle to ``path``."""
    ctx = actx.hub
    plan = plan_persons(job.clusters, agencies=job.agencies,
                        include_unmatched=job.options.include_unmatched,
                        deduplicated=job.deduplicated)
    if not plan.persons:
        raise ExtractBuildError("the run releases nobody (no linked person)",
                                code="empty_extract")
    # The options the extract is built with, declared to the nodes: they refuse options
    # other than those their steward signed (the terms' ``extract``).
    declared = ExtractTermsOptions.model_validate(extract_terms_options_of(job.options))
    requests = extract_requests(plan, project_id=job.project_id, run_id=job.run_id,
                                scopes=job.scopes, recipient_kid=actx.kid, options=declared)
    # Extract requests are signed with the assembly role's own key: the nodes accept no
    # other on them, and the assembler holds no hub key that could sign a match request.
    keys = NodeKeys(signing=actx.signing, hpke=actx.key,
                    message_ttl=min(ctx.settings.max_message_ttl, 300), now=ctx.now_ts,
                    retries=ctx.settings.node_retries,
                    backoff_seconds=ctx.settings.node_retry_backoff_seconds)
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
    # l-diversity / t-closeness of sensitive variables in the released classes.
    released, sensitive = protect_tables(released, quasi_identifiers=qis,
                                         sensitive=job.protection.sensitive)
    tables = {"persons": persons_table(plan, job.agencies), "links": links_table(job.links, plan),
              **{f"agency_{a}": frame for a, frame in released.items()}}
    disclosure = {"k": job.k, "policy": job.options.quasi_identifier_policy,
                  "quasi_identifiers": sorted(f"{a}.{v}" for a, vs in qis.items() for v in vs),
                  "result": result.report() if result else None,
                  "held_for_stewards": bool(result and result.blocked),
                  "classification": {**job.protection.report(), "sensitive_result": {
                      name: outcome.report() for name, outcome in sensitive.items()}}}
    dictionary = build_dictionary(
        agencies=job.agencies, released={a: list(s.variables) for a, s in job.scopes.items()},
        catalog=job.catalog, years={a: (s.first_year, s.last_year) for a, s in job.scopes.items()},
        disclosure=None if result is None or result.blocked else result,
        grains={a: grain(frame) for a, frame in frames.items()})
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


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _finish(session: Session, ctx: HubContext, caller: Caller, job: _Job,
            built: _Built, fence: Callable[[Session], bool] | None = None) -> Extract:
    wrapper = KeyWrapper.from_directory(ctx.settings.dir)
    extract = store.get_extract(session, extract_id=job.extract_id, lock=True)
    assert extract is not None
    # ``fence`` (the assembler's job lease, checked in this transaction): an attempt that
    # lost its lease must not record its bundle over a newer attempt's file.
    if extract.status != "building" or (fence is not None and not fence(session)):
        # Settled meanwhile (the sweep failed it as interrupted, or a newer attempt won):
        # this bundle is not recorded, so its key is never stored — drop the file.
        session.rollback()
        session.refresh(extract)  # returned after the session closes: load it now
        # Only this attempt's own bytes (a random data key makes every attempt's
        # ciphertext unique): a newer attempt may be writing its file at the same path.
        with contextlib.suppress(FileNotFoundError):
            if _file_sha256(built.path) == built.ciphertext_sha256:
                shred_file(built.path)
        return extract
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


def assemble_extract(actx: AssemblyContext, caller: Caller, *, extract_id: str,
                     client: httpx.Client | None = None,
                     fence: Callable[[Session], bool] | None = None) -> Extract | None:
    """Build the ``building`` extract ``extract_id``; None if it is not building (any
    more). :class:`ExtractBuildError` if a node or the run lets it down (the extract is then
    ``failed`` with the reason)."""
    ctx = actx.hub
    with ctx.session_factory() as session:
        try:
            job = load_job(session, ctx, extract_id=extract_id)
        except HubError as exc:
            _fail_id(session, ctx, caller, extract_id, exc)
            raise
        if job is None:
            return None
        session.commit()
        path = extracts_dir(ctx) / f"{job.extract_id}.flx"
        # The extract is still ``building`` and this attempt holds its job's lease, so a
        # file already there is the partial bundle of an attempt that died: remove it.
        shred_file(path)
        http = client or make_node_http_client(ctx.settings)
        try:
            built = _make(job, actx, http, path)
        except Exception as exc:
            _fail(session, ctx, caller, job, path, exc)
            raise
        finally:
            if client is None:
                http.close()
        return _finish(session, ctx, caller, job, built, fence)


def _fail_id(session: Session, ctx: HubContext, caller: Caller, extract_id: str,
             exc: HubError) -> None:
    session.rollback()
    extract = store.get_extract(session, extract_id=extract_id, lock=True)
    if extract is None or extract.status != "building":
        return
    extract.status, extract.finished_at = "failed", ctx.now()
    extract.failure_code, extract.failure_reason = exc.code, str(exc)[:1000]
    audit.record(session, ctx, caller, action="extract.failed", outcome=f"refused:{exc.code}",
                 object_type="extract", object_id=extract_id, project=extract.project_id,
                 detail={"code": exc.code, "reason": str(exc)[:1000]})
    session.commit()
