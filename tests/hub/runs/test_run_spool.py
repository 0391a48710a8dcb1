"""A run's node streams land on disk in a directory of the attempt's own, in the linkage
work directory (hub/services/run_worker.py), which is removed when the run ends — succeeded
or failed — and a run of the size the settings send to the partitioned engine is linked
there with the in-memory engine's result."""

from __future__ import annotations

from typing import Any

from hub.linkage.partitioned import ScaleOptions
from hub.services.run_worker import DEFAULT_WORKDIR


def test_run_spool_is_removed_after_a_successful_run(federation: Any) -> None:
    federation.approved_project()
    run = federation.start_run()
    federation.worker().run_once()
    done = federation.run(run["id"])
    assert done["status"] == "succeeded", done["failure"]
    nodes = {s["agency"]: s["counts"] for s in done["steps"] if s.get("agency")}
    assert set(nodes) == {"K12", "HE"}
    assert all(c["records"] > 0 and c["batches"] >= 1 for c in nodes.values())
    spool = federation.hub.ctx.settings.dir / DEFAULT_WORKDIR
    assert spool.is_dir() and list(spool.iterdir()) == []


def test_run_spool_is_removed_after_a_failed_run(federation: Any) -> None:
    request_id = federation.approved_project()
    federation.withdraw_on_node("HE", request_id)
    run = federation.start_run()
    federation.worker().run_once()
    assert federation.run(run["id"])["status"] == "failed"
    spool = federation.hub.ctx.settings.dir / DEFAULT_WORKDIR
    assert list(spool.iterdir()) == []


def test_partitioned_run_stores_the_in_memory_runs_clusters(federation: Any) -> None:
    federation.approved_project()
    first = federation.start_run()
    federation.worker(scale=ScaleOptions(engine="memory")).run_once()
    memory = federation.run(first["id"])
    assert memory["status"] == "succeeded", memory["failure"]
    second = federation.start_run()
    work = federation.hub.ctx.settings.dir / DEFAULT_WORKDIR
    federation.worker(scale=ScaleOptions(
        engine="partitioned", scheduler="serial", partitions=3, slice_rows=40,
        workdir=str(work))).run_once()
    partitioned = federation.run(second["id"])
    assert partitioned["status"] == "succeeded", partitioned["failure"]
    link = next(s for s in partitioned["steps"] if s["step"] == "link")
    assert link["counts"]["engine"] == "partitioned"
    assert link["counts"]["tasks"] > 0
    assert set(link["counts"]["task_seconds"]) == {"partition", "block", "index", "compare",
                                                   "score"}
    for key in ("records", "links", "clusters", "linked_clusters", "records_in_linked_clusters",
                "candidates"):
        assert partitioned["counts"][key] == memory["counts"][key], key
    assert list(work.iterdir()) == []


def test_next_attempt_removes_what_a_killed_attempt_left(federation: Any, monkeypatch) -> None:
    """A hub killed mid-run leaves its attempt's directory (landed streams, partition
    files); the run's next attempt removes it, and the engine's files of an attempt live
    inside the attempt's directory, so nothing else is left at the work directory's root."""
    from hub.services import run_worker

    federation.approved_project()
    run = federation.start_run()
    work = federation.hub.ctx.settings.dir / DEFAULT_WORKDIR
    left = work / f"{run['id']}-killed"
    (left / "fedlink-link-x").mkdir(parents=True)
    (left / "K12.arrow").write_bytes(b"landed before the kill")
    other = work / "run-0000000000000000-other"  # another run's: not this run's to remove
    other.mkdir()
    seen: list[str] = []
    real = run_worker.link_landed

    def spying(paths: Any, config: Any, scale: ScaleOptions, **kwargs: Any) -> Any:
        seen.append(scale.workdir)
        assert not left.exists()  # gone before the nodes were even asked
        return real(paths, config, scale, **kwargs)

    monkeypatch.setattr(run_worker, "link_landed", spying)
    federation.worker(scale=ScaleOptions(
        engine="partitioned", scheduler="serial", partitions=2, slice_rows=40,
        workdir=str(work))).run_once()
    assert federation.run(run["id"])["status"] == "succeeded"
    (workdir,) = seen
    assert workdir.startswith(str(work / f"{run['id']}-"))
    assert sorted(p.name for p in work.iterdir()) == [other.name]
