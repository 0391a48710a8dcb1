"""``fedlink run …``: start and follow the linkage runs of an approved project.

``start`` (governance) queues a run for the hub's worker; ``list`` shows a project's runs;
``status`` shows one run (the newest by default) with its steps, counts and failure, can
wait for it to finish (``--wait``: exit status 1 when the run failed) and save the quality
report (``--report FILE.html``). Hub URL: ``--hub`` or ``FEDLINK_HUB_URL``; token:
``FEDLINK_TOKEN`` or ``--token-file FILE`` (0600), never a flag value. See
docs/linkage-runs.md.

``fedlink hub worker --dir DIR`` (dedicated worker processes beside or instead of the
worker thread of ``fedlink hub serve``) is defined here too, with the rest of the linkage
run commands, and attached to the ``hub`` group.
"""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from fedlink import hub_options
from fedlink.commands.hub import DirOption, hub_app
from fedlink.errors import CommandError
from fedlink.hub_options import HubUrlOption, TokenOption
from fedlink.progress import progress_bar

run_app = typer.Typer(name="run", help="Linkage runs of approved projects.",
                      no_args_is_help=True)

RequestId = Annotated[str, typer.Argument(help="The request (project) id.")]
FINISHED = ("succeeded", "failed")


def register(app: typer.Typer) -> None:
    app.add_typer(run_app, name="run")


def steps_done(run: dict[str, Any]) -> tuple[int, int]:
    """How many of the run's steps (one per node, link, store) have succeeded, of all."""
    steps = run.get("steps") or []
    return sum(1 for step in steps if step.get("status") == "succeeded"), len(steps)


def link_progress(run: dict[str, Any]) -> tuple[str, int, int] | None:
    """The running link step's engine stage and its units done of all (partitioned runs
    count tasks: partition, block, index, compare, score), or None."""
    for step in run.get("steps") or []:
        counts = step.get("counts") or {}
        if step.get("step") == "link" and step.get("status") == "running" and "stage" in counts:
            return str(counts["stage"]), int(counts["completed"]), max(int(counts["total"]), 1)
    return None


def _counts(counts: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items())


def _show(run: dict[str, Any]) -> None:
    took = f" in {run['seconds']} s" if run.get("seconds") is not None else ""
    typer.echo(f"run {run['id']} of {run['project_id']}: {run['status']}{took} "
               f"(attempt {run['attempt']}, agencies {', '.join(run['agencies'])})")
    for step in run["steps"]:
        name = step["step"] + (f" {step['agency']}" if step.get("agency") else "")
        counts = step.get("counts") or {}
        extra = f"  {_counts(counts)}" if counts else ""
        typer.echo(f"  {name:<12} {step['status']:<10}{extra}")
    if run["counts"]:
        typer.echo(f"  result: {_counts(run['counts'])}")
    if run.get("failure"):
        failure = run["failure"]
        node = f" (node {failure['agency']})" if failure.get("agency") else ""
        typer.echo(f"  failed{node}: {failure['code']}: {failure['reason']}")


@run_app.command()
def start(request_id: RequestId, hub: HubUrlOption = None, token: TokenOption = None) -> None:
    """Start a linkage run of an approved (or ready) project (governance)."""
    with hub_options.client(hub, token) as client:
        run = client.start_run(request_id)
    typer.echo(f"run {run['id']} of {request_id} queued; the project is linking")
    typer.echo(f"follow it: fedlink run status {request_id} --run {run['id']} --wait")


@run_app.command("list")
def list_(request_id: RequestId, hub: HubUrlOption = None, token: TokenOption = None) -> None:
    """The project's runs, newest first, and when the next scheduled refresh is due."""
    with hub_options.client(hub, token) as client:
        runs = client.list_runs(request_id)
        schedule = client.refresh_schedule(request_id)
    for run in runs:
        failure = run.get("failure") or {}
        why = f"  {failure.get('agency') or '-'}: {failure.get('code')}" if failure else ""
        typer.echo(f"{run['id']}  {run['status']:<10} {run['requested_at']}"
                   f"  {run['counts'].get('links', '-')} links{why}")
    if not runs:
        typer.echo(f"no runs of {request_id} yet")
    due = schedule.get("next_refresh_due")
    typer.echo(f"refresh ({schedule['refresh_frequency']}): "
               + (f"next due {due}" if due else "none scheduled")
               + (f" — {schedule['note']}" if schedule.get("note") else ""))


@run_app.command()
def status(
    request_id: RequestId,
    hub: HubUrlOption = None,
    token: TokenOption = None,
    run_id: Annotated[str | None, typer.Option("--run", help="Run id (default: newest).")] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Wait until the run ends.")] = False,
    timeout: Annotated[float, typer.Option(help="Longest wait, seconds.")] = 3600.0,
    report: Annotated[Path | None, typer.Option(
        help="Save the run's HTML quality report here.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run as JSON.")] = False,
) -> None:
    """One run's status, steps, counts and failure (the newest run by default)."""
    deadline = time.monotonic() + timeout
    with hub_options.client(hub, token) as client:
        if run_id is None:
            runs = client.list_runs(request_id)
            if not runs:
                raise CommandError(f"project {request_id} has no linkage run")
            run_id = str(runs[0]["id"])
        run = client.get_run(request_id, run_id)
        if wait and run["status"] not in FINISHED:
            with progress_bar(f"run {run_id}", unit="steps done") as advance, \
                    progress_bar("  linking", unit="units of the stage") as link_stage:
                while run["status"] not in FINISHED:
                    advance(*steps_done(run))
                    stage = link_progress(run)
                    if stage is not None:
                        link_stage(stage[1], total=stage[2], label=f"  link: {stage[0]}")
                    if time.monotonic() > deadline:
                        raise CommandError(f"run {run_id} is still {run['status']} after "
                                           f"{timeout} s")
                    time.sleep(1.0)
                    run = client.get_run(request_id, run_id)
        html = None
        if report is not None and run["status"] == "succeeded":
            html = client.run_report_html(request_id, run_id)
    if as_json:
        typer.echo(hub_options.dumps(run))
    else:
        _show(run)
    if wait and run["status"] == "failed":
        raise CommandError(f"run {run_id} failed: {run['failure']['code']}", exit_code=1)
    if report is not None:
        if html is None:
            raise CommandError(f"run {run_id} is {run['status']}; only a succeeded run has a "
                               "report")
        report.write_text(html, encoding="utf-8")
        typer.echo(f"report written to {report}")


@hub_app.command("worker")  # attached to ``fedlink hub`` at import (fedlink/cli.py COMMANDS)
def worker(
    hub_dir: DirOption,
    threads: Annotated[int, typer.Option(min=1, max=32, help="Runs carried out at once.")] = 1,
    log_level: Annotated[str, typer.Option(
        envvar="FEDLINK_HUB_LOG_LEVEL", help="critical, error, warning, info or debug.")]
    = "info",
) -> None:
    """Run linkage workers on the hub's database until stopped (Ctrl-C or SIGTERM)."""
    import logging.config

    from fedlink.jsonlog import log_config
    from hub.services.run_worker import LinkageWorker, default_worker_id
    from hub.services.setup import open_hub

    logging.config.dictConfig(log_config(log_level.lower()))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with open_hub(hub_dir) as ctx:
        workers = [LinkageWorker(ctx, worker_id=f"{default_worker_id()}-{i}")
                   for i in range(threads)]
        for each in workers:
            each.start()
        typer.echo(f"{threads} linkage worker(s) on {ctx.settings.dir}; Ctrl-C stops",
                   err=True)
        try:
            while not stop.wait(1.0):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            for each in workers:
                each.stop()
    typer.echo("linkage workers stopped", err=True)
