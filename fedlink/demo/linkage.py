"""The linkage run: a governance member starts it, the hub's worker asks every node for its
tokens and links them, and the researcher reads the quality report.

``--fail-node AGENCY`` kills that agency's node the moment the run is queued (the hub's
worker picks runs up within a second, so the node is gone before it is asked): the run
fails, the hub names the node and the reason, and the demo stops saying so.

For the scoring against the synthetic truth the demo reads the run's clusters from the
hub's database, as the hub's operator could: the run API never shows a pseudonymous id,
and that is right for every real user.
"""

from __future__ import annotations

import signal
import time
from typing import Any

from fedlink.demo.federation import AGENCIES
from fedlink.demo.state import Demo
from fedlink.demo.ui import StepFailed

#: Longest wait for a run, seconds.
RUN_TIMEOUT = 900.0
FINISHED = ("succeeded", "failed")


def _progress_text(run: dict[str, Any]) -> str:
    parts = []
    for step in run.get("steps") or []:
        name = step.get("step", "?") + (f" {step['agency']}" if step.get("agency") else "")
        parts.append(f"{name} {step.get('status', '?')}")
    return f"{run['status']}: " + ", ".join(parts) if parts else str(run["status"])


def _failure(run: dict[str, Any]) -> str:
    failure = run.get("failure") or {}
    node = f" because of the {failure['agency']} node" if failure.get("agency") else ""
    return (f"linkage run {run['id']} failed{node}: {failure.get('code', '?')}: "
            f"{failure.get('reason', 'no reason given')}")


def _kill_node(demo: Demo) -> str:
    agency = next(a for a in AGENCIES if a.code == demo.fail_node)
    service = demo.supervisor.services[f"node-{agency.slug}"]
    if service.process is not None and service.process.poll() is None:
        service.process.send_signal(signal.SIGKILL)
        service.process.wait(timeout=10)
    return f"--fail-node: the {agency.code} node (pid {service.pid}) was killed as the run began"


def _clusters(demo: Demo) -> list[tuple[str, str, int]]:
    from sqlalchemy import select

    from hub.db.engine import make_engine
    from hub.db.models import RunCluster

    engine = make_engine(f"sqlite:///{demo.layout.hub / 'hub.db'}")
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(RunCluster.agency, RunCluster.pid, RunCluster.cluster_id)
                                .where(RunCluster.run_id == demo.run_id)).all()
    finally:
        engine.dispose()
    return [(str(a), str(p), int(c)) for a, p, c in rows]


def run_linkage(demo: Demo) -> None:
    title = "Linkage run at the hub"
    with demo.steps.step(title, "governance starts it; the hub's worker runs it") as step:
        with demo.hub_client("governance_a") as hub:
            run = hub.start_run(demo.request_id)
            demo.run_id = run["id"]
            if demo.fail_node:
                step.note(_kill_node(demo))
            deadline = time.monotonic() + RUN_TIMEOUT
            while run["status"] not in FINISHED:
                if time.monotonic() > deadline:
                    raise StepFailed(f"linkage run {demo.run_id} is still {run['status']} "
                                     f"after {RUN_TIMEOUT:.0f} s")
                time.sleep(0.5)
                run = hub.get_run(demo.request_id, demo.run_id)
                step.progress(_progress_text(run))
        if run["status"] == "failed":
            raise StepFailed(_failure(run))
        counts: dict[str, Any] = dict(run.get("counts") or {})
        demo.facts["run_counts"] = counts
        demo.facts["run_seconds"] = run.get("seconds")
        sent: dict[str, int] = {}
        for node_step in run.get("steps") or []:
            records = (node_step.get("counts") or {}).get("records")
            if node_step.get("agency") and isinstance(records, int):
                sent[str(node_step["agency"])] = records
        demo.facts["records_sent"] = sent
        step.note("token rows sent: " + ", ".join(f"{a} {n:,}" for a, n in sent.items()))
        with demo.hub_client("researcher") as hub:
            demo.layout.researcher.mkdir(mode=0o700, exist_ok=True)
            report = demo.layout.researcher / f"linkage-report-{demo.run_id}.html"
            report.write_text(hub.run_report_html(demo.request_id, demo.run_id),
                              encoding="utf-8")
        demo.facts["clusters"] = _clusters(demo)
        estimated = ""
        if "estimated_precision" in counts and "estimated_recall" in counts:
            estimated = (f"; estimated without truth: precision "
                         f"{counts['estimated_precision']:.4f}, recall "
                         f"{counts['estimated_recall']:.4f}")
        step.done(f"run {demo.run_id} succeeded in {run.get('seconds')} s: "
                  f"{counts.get('candidates', '?')} candidates, {counts.get('links', '?')} "
                  f"links, {counts.get('clusters', '?')} clusters{estimated}; report "
                  f"{report.name} for the researcher")
