"""One agency node answering one match request, end to end: is its memory bounded?

Issue 18: an agency of ten million records must stream its tokens in bounded memory. The
step ``fedlink.node_stream`` (spec ``{"records": N, "work_dir": optional, "seed":
optional, "batch_size": optional}``) runs in two processes of its own, so that each
figure belongs to one phase:

1. **setup** (``python -m fedlink.bench.node_stream setup DIR N SEED``): N synthetic K-12
   records (:mod:`fedlink.synth`, the K-12 frame of :func:`fedlink.synth.generate`) as a
   CSV, then a node as agency IT builds one — ``init_node``, the federation secret, the
   hub's public keys as enrollment leaves them, the node's real ingest
   (:func:`agency_node.ingest.loader.run_ingest`), a steward's approval of the bench
   project and a pinned governance roster. Timed, but not part of the figure: its peak
   memory (the whole synthetic population) would mask the stream's.
2. **stream** (``python -m fedlink.bench.node_stream stream DIR BATCH_SIZE``): a fresh
   process opens the node, builds one hub-signed match request (untimed), then times
   :func:`~agency_node.services.match.authorise_match` and
   :func:`~agency_node.services.match.stream_tokens` while it reads the Arrow IPC bytes
   batch by batch (one batch held at a time), and reports the node's peak resident set
   (``RUSAGE_SELF``), its resident set after each tenth of the batches, and its encoding
   workers' peak — each worker's own high-water mark (``VmHWM``) read before the pool
   stops, and ``RUSAGE_CHILDREN`` once it has stopped.

The hub's and the governance members' keys are bench keys derived from fixed labels, so
the stream process re-derives them instead of reading private keys from disk. Nothing
here prints an identity value or a pid: counts, bytes and seconds only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fedlink.bench.worker import peak_rss_bytes, stage

PROJECT = "P-BENCH-STREAM"
AGENCY = "K12"
#: Variables the bench project asks for: two of the synthetic K-12 file's attributes.
VARIABLES = ["grade", "school"]
MEMBERS = ("alpha", "beta", "gamma")


def bench_key(label: str) -> Ed25519PrivateKey:
    """A bench signing key derived from ``label``: the same in the setup and the stream
    process (a benchmark's throwaway keys, never a deployment's)."""
    seed = hashlib.sha256(f"fedlink-bench-node-stream-{label}".encode()).digest()
    return Ed25519PrivateKey.from_private_bytes(seed)


def run(spec: dict[str, Any]) -> dict[str, Any]:
    """The step: set a node of ``records`` up in one process, stream in another."""
    records = int(spec["records"])
    if records < 1:
        raise ValueError("records must be at least 1")
    seed = int(spec.get("seed", 18))
    batch_size = int(spec.get("batch_size", 0)) or _default_batch_size()
    work = Path(tempfile.mkdtemp(prefix="fedlink-node-stream-", dir=spec.get("work_dir")))
    try:
        stage(f"setup: {records:,} synthetic K-12 records, node init and ingest")
        setup = _child(["setup", str(work), str(records), str(seed)], work / "setup.json")
        stage(f"stream: one match request over {setup['units']:,} units")
        streamed = _child(["stream", str(work), str(batch_size)], work / "stream.json")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    seconds = streamed["stream_seconds"]
    return {
        "records": records, "units": setup["units"], "batch_size": batch_size,
        "seconds": {"setup": setup["setup_seconds"], "stream": seconds},
        "rows": streamed["rows"], "batches": streamed["batches"],
        "bytes": streamed["bytes"], "rows_per_second": streamed["rows"] / max(seconds, 1e-9),
        # The figure: the node process while it answers, and its largest encoding worker.
        "peak_rss_bytes": streamed["node_peak_rss_bytes"],
        "node_peak_rss_bytes": streamed["node_peak_rss_bytes"],
        "node_rss_before_stream_bytes": streamed["node_rss_before_bytes"],
        "node_rss_by_tenth_bytes": streamed["node_rss_by_tenth_bytes"],
        "worker_peak_rss_bytes": streamed["worker_peak_rss_bytes"],
        "workers": streamed["workers"],
        "setup_peak_rss_bytes": setup["peak_rss_bytes"],
    }


def _default_batch_size() -> int:
    from protocol.encoding import DEFAULT_BATCH_SIZE

    return DEFAULT_BATCH_SIZE


def _child(args: list[str], out: Path) -> dict[str, Any]:
    """Run one phase in a fresh interpreter; its result, or a one-line error."""
    done = subprocess.run(  # noqa: S603 - this module, in this interpreter
        [sys.executable, "-m", "fedlink.bench.node_stream", *args],
        check=False, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0 or not out.exists():
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"node_stream {args[0]} failed ({done.returncode}): {last}")
    result: dict[str, Any] = json.loads(out.read_text())
    return result


# -- phase 1: a node with N records, as agency IT and its steward set it up ---------------


def k12_frame(records: int, seed: int) -> Any:
    """Exactly ``records`` synthetic K-12 rows: the K-12 frame
    :func:`fedlink.synth.generate` makes, without the two other agencies' frames."""
    import numpy as np

    from fedlink.bench.datasets import K12_SHARE
    from fedlink.synth.agencies import agency_frame
    from fedlink.synth.coverage import assign_coverage
    from fedlink.synth.population import make_population
    from fedlink.synth.profiles import K12
    from fedlink.synth.vocab import vocabulary

    people = int(records / K12_SHARE) + 1000
    vocab = vocabulary()
    while True:
        # The same streams generate() gives population, coverage and the K-12 frame.
        streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3)]
        pop = make_population(people, streams[0], vocab)
        frame = agency_frame(K12, pop, assign_coverage(pop, streams[1]), vocab, streams[2])
        if len(frame) >= records:
            return frame.iloc[:records].reset_index(drop=True)
        people = int(people * 1.1)  # small populations vary around the share


def terms(years: list[int]) -> dict[str, Any]:
    """The bench project's terms, as the hub sends them to the steward."""
    from protocol.wire import terms_digest

    today = dt.date.today()
    content: dict[str, Any] = {
        "project_id": PROJECT, "agency": AGENCY, "title": "Node stream benchmark",
        "public_summary": "Measures one agency node answering one match request.",
        "research_questions": ["Does the node stream in bounded memory?"],
        "variables": VARIABLES, "first_year": years[0], "last_year": years[-1],
        "cohort": {"conditions": []},
        "term_start": (today - dt.timedelta(days=30)).isoformat(),
        "term_end": (today + dt.timedelta(days=365)).isoformat(),
        "matching_authorised": True, "allowable_uses": ["research"],
        "personnel": ["Bench"], "disposition": "destroy",
    }
    return {**content, "terms_digest": terms_digest(content), "status": "in_review"}


def setup(work: Path, records: int, seed: int) -> dict[str, Any]:
    """Build ``work/node`` holding ``records`` K-12 records and an approved project."""
    import pyarrow.csv as pacsv
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    from agency_node import keys as node_keys
    from agency_node.config import SourceSection, update_hub_section
    from agency_node.ingest.loader import run_ingest
    from agency_node.runtime import NodeRuntime
    from agency_node.services.approvals import read_terms, record_decision
    from agency_node.services.governance import pin_roster
    from agency_node.setup import init_node
    from agency_node.store.records import count_units
    from protocol.governance import new_roster, roster_digest, sign_statement
    from protocol.keyfiles import key_id
    from protocol.keys import generate_federation_secret

    started = time.perf_counter()
    frame = k12_frame(records, seed)
    years = sorted({int(y) for y in frame["school_year"]})
    source = work / "k12.csv"
    pacsv.write_csv(pa.Table.from_pandas(frame, preserve_index=False), source,
                    write_options=pacsv.WriteOptions(quoting_style="needed"))
    del frame
    node_dir = work / "node"
    init_node(node_dir, agency=AGENCY, name="K12 agency",
              source=SourceSection(kind="csv", path=str(source)))
    secret = work / "federation.secret"
    secret.write_text(generate_federation_secret().hex())
    node_keys.import_federation_secret(node_dir, secret)
    secret.unlink()
    hub_signing, assembly_signing = bench_key("hub"), bench_key("assembly-signing")
    hpke, assembly = X25519PrivateKey.generate(), X25519PrivateKey.generate()
    node_keys.store_hub_material(node_dir, signing_public=hub_signing.public_key(),
                                 hpke_public=hpke.public_key(), token="t" * 32,
                                 assembly_public=assembly.public_key(),
                                 assembly_signing_public=assembly_signing.public_key())
    update_hub_section(node_dir, url="http://hub.invalid",
                       signing_kid=key_id(hub_signing.public_key()),
                       hpke_kid=key_id(hpke.public_key()),
                       assembly_kid=key_id(assembly.public_key()),
                       assembly_signing_kid=key_id(assembly_signing.public_key()))
    now = dt.datetime.now(dt.UTC)
    roster = new_roster([(m, bench_key(m).public_key()) for m in MEMBERS], quorum=2)
    with NodeRuntime.open(node_dir) as runtime:
        summary = run_ingest(runtime.settings.node, runtime.sessions, runtime.audit)
        summary.raise_for_failure()
        checked = read_terms(terms(years), project_id=PROJECT, runtime=runtime)
        record_decision(runtime, checked, decision="approve", reason="", now=now,
                        steward_kid=key_id(bench_key("steward").public_key()))
        pin_roster(runtime, [sign_statement(roster, bench_key(m)) for m in MEMBERS[:2]],
                   fingerprint=roster_digest(roster), now=now)
        mapping = runtime.settings.node.mapping
        with runtime.sessions() as session:
            units = count_units(session, persons=bool(mapping.person_id),
                                years=years if mapping.year_column or mapping.period_column
                                else None)
    source.unlink()
    (work / "years.json").write_text(json.dumps(years))
    return {"setup_seconds": time.perf_counter() - started, "units": units,
            "peak_rss_bytes": peak_rss_bytes()}


# -- phase 2: one signed match request, streamed ------------------------------------------


def match_request(years: list[int]) -> bytes:
    """The hub-signed match request for the bench project over ``years``, with a quorum of
    the roster's members approving its project terms."""
    from protocol.canonical import b64url_encode
    from protocol.governance import GovernanceDecision, sign_statement
    from protocol.project import ProjectTerms, project_digest
    from protocol.signing import sign
    from protocol.wire import MatchRequest

    approved = terms(years)
    scope = {"agency": AGENCY, "variables": VARIABLES, "first_year": years[0],
             "last_year": years[-1], "cohort": {"conditions": []},
             "term_start": approved["term_start"], "term_end": approved["term_end"],
             "matching_authorised": True}
    project = ProjectTerms.model_validate({
        "project_id": PROJECT, "term_start": scope["term_start"],
        "term_end": scope["term_end"],
        "agencies": [{"agency": AGENCY, "terms_digest": approved["terms_digest"]}]})
    decision = GovernanceDecision(
        project_id=PROJECT, decision="approve", reason="", project_terms=project,
        project_digest=project_digest(project), decided_at=dt.datetime.now(dt.UTC))
    decisions = [sign_statement(decision, bench_key(m)).model_dump(mode="json")
                 for m in MEMBERS[:2]]
    salt = hashlib.sha256(b"fedlink-bench-node-stream-salt").digest()
    body = MatchRequest.model_validate({
        "project_id": PROJECT, "agency": AGENCY, "project_salt": b64url_encode(salt),
        "project_terms": project.model_dump(mode="json"), "scope": scope,
        "run_id": "bench-run-1", "governance": decisions}).model_dump(mode="json")
    return sign(body, typ=MatchRequest.TYP, private_key=bench_key("hub"), ttl_seconds=600,
                now=int(time.time())).to_json()


class _Chunks(io.RawIOBase):
    """The stream's byte chunks as a file Arrow reads from; keeps only the unread rest of
    the current chunk, so the consumer never holds more than a batch."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks, self._rest, self.bytes = chunks, b"", 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._rest:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self.bytes += len(chunk)
            self._rest = chunk
        n = min(len(buffer), len(self._rest))
        buffer[:n] = self._rest[:n]
        self._rest = self._rest[n:]
        return n


def stream(work: Path, batch_size: int) -> dict[str, Any]:
    """Answer one match request from ``work/node``; counts, seconds and peak memory."""
    from agency_node.runtime import NodeRuntime
    from agency_node.services import parallel_encoding
    from agency_node.services.context import NodeServices
    from agency_node.services.gate import ReceivedBody
    from agency_node.services.match import authorise_match, stream_tokens

    years = json.loads((work / "years.json").read_text())
    with NodeRuntime.open(work / "node") as runtime:
        services = NodeServices.build(runtime)
        body = ReceivedBody(data=match_request(years), too_large=False, limit=1 << 20)
        before = _status_kib(os.getpid(), "VmRSS") * 1024
        sent = [0, 0]  # units and batches the node says it sent (its metrics hook)
        rss: list[int] = []  # the node's resident set after each batch sent

        def on_units(units: int) -> None:
            sent[0] += units
            sent[1] += 1
            rss.append(_status_kib(os.getpid(), "VmRSS") * 1024)

        started = time.perf_counter()
        plan = authorise_match(services, body)
        source = _Chunks(stream_tokens(services, plan, batch_size=batch_size,
                                       on_units=on_units))
        rows = batches = 0
        with pa.ipc.open_stream(pa.PythonFile(source, mode="r")) as reader:
            for batch in reader:
                rows += batch.num_rows
                batches += 1
        seconds = time.perf_counter() - started
    if (rows, batches) != tuple(sent):
        raise RuntimeError(f"read {rows} rows in {batches} batches, the node sent {sent}")
    worker_hwm = [_status_kib(pid, "VmHWM") * 1024 for pid in _descendants(os.getpid())]
    parallel_encoding.shutdown_pools()
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    return {"stream_seconds": seconds, "rows": rows, "batches": batches,
            "bytes": source.bytes, "node_rss_before_bytes": before,
            # The kernel's per-thread RSS counters lag by a few pages: a sample can exceed
            # ru_maxrss by that much, so the peak is the larger of the two.
            "node_peak_rss_bytes": max(peak_rss_bytes(), *rss),
            # Flat within one stream once the read-ahead is full: RSS at each tenth of it.
            "node_rss_by_tenth_bytes": [rss[len(rss) * k // 10 - 1] for k in range(1, 11)],
            # The forkserver and its workers: the largest of them.
            "worker_peak_rss_bytes": max([children, *worker_hwm]),
            "workers": len(worker_hwm)}


def _status_kib(pid: int, field: str) -> int:
    """A ``/proc/PID/status`` memory field in KiB (0 when the process has gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _descendants(root: int) -> list[int]:
    """Every live descendant of ``root`` (the forkserver, its encoding workers, the
    resource tracker), from ``/proc``."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                # The parent pid is the 2nd field after the parenthesised command name.
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    found, frontier = [], [root]
    while frontier:
        parent = frontier.pop()
        kids = [pid for pid, ppid in parents.items() if ppid == parent]
        found += kids
        frontier += kids
    return found


def main(argv: list[str]) -> int:
    phases = {"setup": 4, "stream": 3}
    if not argv or phases.get(argv[0]) != len(argv):
        print("usage: node_stream setup DIR N SEED | stream DIR BATCH_SIZE", file=sys.stderr)
        return 2
    work = Path(argv[1])
    try:
        if argv[0] == "setup":
            result = setup(work, int(argv[2]), int(argv[3]))
        else:
            result = stream(work, int(argv[2]))
    except Exception as exc:  # one line for the step's error, never a traceback
        print(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
              file=sys.stderr)
        return 1
    (work / f"{argv[0]}.json").write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
