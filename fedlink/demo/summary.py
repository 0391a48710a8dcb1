"""The demo's closing summary: linkage quality, counts, timings, where things are, URLs."""

from __future__ import annotations

from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from fedlink.demo.evaluation import Quality
from fedlink.demo.federation import AGENCIES
from fedlink.demo.state import Demo


def _quality_table(quality: Quality) -> Table:
    table = Table(title=f"Linkage quality against the synthetic truth — {quality.source}",
                  title_justify="left")
    for column in ("agency pair", "true pairs", "linked pairs", "correct"):
        table.add_column(column, justify="right" if column != "agency pair" else "left")
    for column in ("precision", "recall", "F1"):
        table.add_column(column, justify="right")
    for score in quality.scores:
        name = ("all pairs" if score.left == "*" else f"within {score.left}"
                if score.left == score.right else f"{score.left}–{score.right}")
        table.add_row(name, f"{score.true_pairs:,}", f"{score.predicted_pairs:,}",
                      f"{score.true_positives:,}", f"{score.precision:.4f}",
                      f"{score.recall:.4f}", f"{score.f1:.4f}")
    return table


def _counts_table(demo: Demo, quality: Quality | None) -> Table:
    table = Table(title="Counts", title_justify="left", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    stores: dict[str, dict[str, int]] = demo.facts.get("stores", {})
    for agency in AGENCIES:
        c = stores.get(agency.code)
        if c:
            persons = f"; {c['persons']:,} agency persons" if c.get("persons") else ""
            table.add_row(f"{agency.code} records", f"{c['records']:,} loaded of {c['rows']:,} "
                          f"rows, {c['quarantined']:,} quarantined{persons}")
    sent: dict[str, int] = demo.facts.get("records_sent", {})
    if sent:
        unit = ("agency persons (one token row each, for all its rows in the years asked)"
                if demo.longitudinal else "records (those in the years asked)")
        table.add_row("sent for the project",
                      ", ".join(f"{a} {n:,}" for a, n in sent.items()) + f" {unit}")
    run: dict[str, Any] = demo.facts.get("run_counts", {})
    labels = (("candidates", "candidate pairs"), ("links", "links accepted"),
              ("clusters", "clusters (people)"), ("linked_clusters", "people in 2+ agencies"))
    for key, label in labels:
        if isinstance(run.get(key), int):
            table.add_row(label, f"{run[key]:,}")
    if quality is not None and "clusters" not in run:
        table.add_row("clusters (people)", f"{quality.clusters:,} over {quality.records:,} "
                      f"{quality.unit}")
    extract: dict[str, Any] = demo.facts.get("extract", {})
    for key, value in extract.items():
        table.add_row(key, str(value))
    return table


def _timings_table(demo: Demo, total: float) -> Table:
    table = Table(title="Timings", title_justify="left")
    table.add_column("step")
    table.add_column("who")
    table.add_column("seconds", justify="right")
    for record in demo.steps.records:
        shown = {"ok": f"{record.seconds:.1f}", "failed": f"{record.seconds:.1f} ✗",
                 "unavailable": "n/a"}[record.status]
        table.add_row(record.title, record.actor, shown)
    table.add_row("[bold]total[/]", "", f"[bold]{total:.1f}[/]")
    return table


def _places_table(demo: Demo) -> Table:
    layout = demo.layout
    table = Table(title=f"Where things are (under {layout.root})", title_justify="left",
                  show_header=False)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("hub", f"{layout.hub}/ (database hub.db, keys; never an identity value)")
    for agency in AGENCIES:
        table.add_row(f"node {agency.code}", f"{layout.node(agency)}/ (node.sqlite3, "
                      f"{agency.source}, keys, secret)")
    table.add_row("federation secret", f"{layout.secret} (0600; the nodes' copy, never the "
                  "hub's)")
    extract = demo.facts.get("extract_id")
    table.add_row("researcher", f"{layout.researcher}/" + (
        f" (extract {extract}/ unpacked, its .zip, the run's quality report)" if extract
        else ""))
    table.add_row("logs", f"{layout.logs}/ (one per service, commands.log for the commands)")
    if layout.evaluation.exists():
        table.add_row("evaluation", f"{layout.evaluation}/ (the demo's own scoring)")
    return table


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2.0, trust_env=False).status_code == 200
    except httpx.HTTPError:
        return False


def _urls_table(demo: Demo, running: bool) -> Table:
    title = "URLs (running — open them now)" if running else "URLs (the services are stopped)"
    table = Table(title=title, title_justify="left", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    hub = demo.hub_url
    table.add_row("hub API docs", f"{hub}/docs")
    for path, label in (("/public", "public transparency page"), ("/signin", "hub sign-in")):
        if not running or _answers(hub + path):
            table.add_row(label, hub + path)
    table.add_row("public projects (JSON)", f"{hub}/v1/public/projects")
    for agency in AGENCIES:
        if agency.code in demo.node_ports:
            table.add_row(f"node {agency.code} health", f"{demo.node_url(agency)}/health")
    return table


def print_summary(demo: Demo, console: Console, quality: Quality | None, total: float,
                  running: bool) -> None:
    console.rule("Summary")
    if quality is not None:
        console.print(_quality_table(quality))
    console.print(_counts_table(demo, quality))
    console.print(_timings_table(demo, total))
    console.print(_places_table(demo))
    if demo.hub_port:
        console.print(_urls_table(demo, running))
    if running:
        pids = ", ".join(f"{name} {s.pid}" for name, s in demo.supervisor.services.items())
        console.print(f"The services keep running ({pids}). Tokens for the demo's people are "
                      f"in {demo.layout.root / 'tokens.json'} (0600).")
        console.print(f"Stop them with: [bold]fedlink demo --stop --workdir "
                      f"{demo.layout.root}[/]")
