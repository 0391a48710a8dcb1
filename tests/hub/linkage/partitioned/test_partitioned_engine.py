"""The partitioned engine against the in-memory engine on the same data.

Every block of every key column must fall whole into one partition, so on the same input
the partitioned run finds the same candidate pairs, fits the same model and makes the same
links and clusters as :func:`hub.linkage.link` — whatever the number of partitions and row
slices. These tests cut small inputs into many partitions and slices so pairs cross every
edge there is.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from hub.linkage import LinkageConfig, LinkageError, link
from hub.linkage.partitioned import ScaleOptions, link_files, link_landed

SERIAL = ScaleOptions(engine="partitioned", scheduler="serial", partitions=5, slice_rows=61)


def _clusters(result) -> set[tuple[tuple[str, str], ...]]:
    frame = result.clusters.to_pandas()
    return {tuple(sorted(zip(g["agency"], g["pid"], strict=True)))
            for _, g in frame.groupby("cluster_id")}


def _links(result) -> set[tuple[str, str, str, str]]:
    frame = result.links.to_pandas()
    return set(zip(frame["agency_a"], frame["pid_a"], frame["agency_b"], frame["pid_b"],
                   strict=True))


def _assert_same(memory, partitioned) -> None:
    assert _clusters(partitioned) == _clusters(memory)
    assert _links(partitioned) == _links(memory)
    for key in ("records", "candidates", "accepted", "links", "clusters", "linked_clusters",
                "distinct_patterns", "capped_blocks"):
        assert partitioned.report["summary"][key] == memory.report["summary"][key], key
    for ours, theirs in zip(partitioned.report["pairs"], memory.report["pairs"], strict=True):
        for key in ("candidates", "raw_pairs", "accepted", "after_one_to_one", "links",
                    "co_clustered", "capped"):
            assert ours[key] == theirs[key], key
        assert ours["expected_matches"] == pytest.approx(theirs["expected_matches"], abs=0.02)
    assert partitioned.model.prior_weight == pytest.approx(memory.model.prior_weight, abs=1e-6)
    assert partitioned.report["weights"] == memory.report["weights"]


def test_partitioned_run_equals_in_memory_run_on_the_same_data(three_agencies, landed):
    memory = link(three_agencies, LinkageConfig())
    seen: dict[str, tuple[int, int]] = {}
    partitioned = link_files(landed(three_agencies), LinkageConfig(), SERIAL,
                             progress=lambda stage, done, total: seen.__setitem__(
                                 stage, (done, total)))
    assert memory.report["summary"]["links"] > 100
    _assert_same(memory, partitioned)
    assert partitioned.report["partitions"]["engine"] == "partitioned"
    assert partitioned.report["partitions"]["partitions_per_key"] == 5
    # Progress: every stage reported, each to completion.
    assert list(seen) == ["partition", "block", "index", "compare", "fit", "score", "assign"]
    assert all(done == total for done, total in seen.values())
    # Every record exactly once, at most one record of an agency per cluster.
    frame = partitioned.clusters.to_pandas()
    assert len(frame) == sum(t.num_rows for t in three_agencies.values())
    assert not frame.duplicated(["agency", "pid"]).any()
    assert int(frame.groupby(["cluster_id", "agency"]).size().max()) == 1


@pytest.mark.parametrize(("partitions", "slice_rows"), [(1, 10_000), (2, 50), (17, 90)])
def test_no_candidate_pair_lost_at_a_partition_or_slice_edge(
        three_agencies, landed, partitions, slice_rows):
    memory = link(three_agencies, LinkageConfig())
    options = ScaleOptions(engine="partitioned", scheduler="serial", partitions=partitions,
                           slice_rows=slice_rows)
    _assert_same(memory, link_files(landed(three_agencies), LinkageConfig(), options))


def test_deduplicated_agency_links_as_in_memory(linkage_population, token_table, landed):
    a, b = linkage_population(n_people=300, seed=5)
    twins = [dict(r, record_id=f"A{i}-again") for i, r in enumerate(a[:40])]
    tables = {"k12": token_table(a + twins), "workforce": token_table(b)}
    config = LinkageConfig(dedup=("k12",))
    memory = link(tables, config)
    partitioned = link_files(landed(tables), config, SERIAL)
    _assert_same(memory, partitioned)
    assert partitioned.report["deduplication"] == memory.report["deduplication"]


def test_capped_blocks_reported_as_in_memory(linkage_population, token_table, landed):
    a, b = linkage_population(n_people=300, seed=3)
    # Thirty records a side share a birth date and a ZIP code (a placeholder date at one
    # school): their block of the date-and-ZIP key exceeds a cap of 10 and must be
    # skipped and reported.
    same = {"last_name": "SMITH", "dob": "2001-05-05", "sex": "F", "postal_code": "22100",
            "street_address": "1 MAIN ST"}

    def crowd(prefix: str) -> list[dict[str, str]]:
        return [dict(same, first_name="ANN" + chr(65 + i // 26) + chr(65 + i % 26),
                     record_id=f"{prefix}{i}") for i in range(30)]

    tables = {"k12": token_table(a + crowd("PA")), "workforce": token_table(b + crowd("PB"))}
    config = LinkageConfig(max_block=10)
    memory = link(tables, config)
    assert memory.report["summary"]["capped_blocks"] > 0
    _assert_same(memory, link_files(landed(tables), config, SERIAL))


def test_pair_budget_skips_the_largest_blocks(three_agencies, landed):
    two = landed({name: three_agencies[name] for name in ("k12", "workforce")})
    unbounded = link_files(two, LinkageConfig(), SERIAL)
    budget = unbounded.report["pairs"][0]["raw_pairs"] // 2
    bounded = link_files(two, LinkageConfig(max_candidates=budget), SERIAL)
    first = bounded.report["pairs"][0]
    assert first["raw_pairs"] <= budget
    assert first["candidates"] < unbounded.report["pairs"][0]["candidates"]
    reasons = {c["reason"] for c in first["capped"]}
    assert "pair_budget" in reasons


def test_local_dask_cluster_run_equals_serial_run(three_agencies, landed):
    paths = landed(three_agencies)
    serial = link_files(paths, LinkageConfig(), SERIAL)
    options = ScaleOptions(engine="partitioned", scheduler="local", workers=2, partitions=5,
                           slice_rows=61, worker_memory_gb=1.0)
    clustered = link_files(paths, LinkageConfig(), options)
    _assert_same(serial, clustered)
    partitions = clustered.report["partitions"]
    assert partitions["workers"] == 2
    assert partitions["scheduler"].startswith("local")
    stages = {t["stage"] for t in partitions["tasks"]}
    assert stages == {"partition", "block", "index", "compare", "score"}
    assert all(t["seconds"] >= 0 for t in partitions["tasks"])
    assert len(partitions["worker_peak_rss_bytes"]) >= 2  # two processes did the work


def test_link_landed_uses_memory_engine_for_small_runs(three_agencies, landed):
    paths = landed(three_agencies)
    small = link_landed(paths, LinkageConfig(), ScaleOptions(memory_max_records=10_000))
    assert small.report["partitions"] == {"engine": "memory"}
    large = link_landed(paths, LinkageConfig(),
                        ScaleOptions(memory_max_records=100, scheduler="serial"))
    assert large.report["partitions"]["engine"] == "partitioned"
    assert _clusters(small) == _clusters(large)


def test_token_file_that_is_not_arrow_refused(tmp_path, three_agencies, landed):
    paths = landed(three_agencies)
    bad = tmp_path / "junk.arrow"
    bad.write_bytes(b"not an arrow file at all")
    with pytest.raises(LinkageError, match="not an Arrow IPC file"):
        link_files({**paths, "k12": bad}, LinkageConfig(), SERIAL)


def test_token_file_repeating_a_pid_refused(three_agencies, landed):
    table = three_agencies["k12"]
    doubled = pa.concat_tables([table, table.slice(0, 1)])
    with pytest.raises(LinkageError, match="repeats a pid"):
        link_files(landed({**three_agencies, "k12": doubled}), LinkageConfig(), SERIAL)


def test_token_file_without_pid_column_refused(three_agencies, landed):
    table = three_agencies["k12"].drop_columns(["pid"])
    with pytest.raises(LinkageError, match="no pid column"):
        link_files(landed({**three_agencies, "k12": table}), LinkageConfig(), SERIAL)


def test_one_agency_not_deduplicated_refused(three_agencies, landed):
    with pytest.raises(LinkageError, match="at least two agencies"):
        link_files(landed({"k12": three_agencies["k12"]}), LinkageConfig(), SERIAL)


@pytest.mark.parametrize("bad", [
    {"engine": "gpu"}, {"scheduler": "http://x:1"}, {"workers": -1},
    {"worker_memory_gb": 0}, {"slice_rows": -5},
])
def test_scale_options_refuse_unsafe_values(bad):
    with pytest.raises(LinkageError):
        ScaleOptions(**bad)


def test_work_directory_removed_after_the_run(three_agencies, landed, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    options = ScaleOptions(engine="partitioned", scheduler="serial", partitions=3,
                           slice_rows=100, workdir=str(work))
    link_files(landed(three_agencies), LinkageConfig(), options)
    assert list(work.iterdir()) == []


@pytest.mark.parametrize("within", [[False, False, False], [True, False, False]])
def test_shared_tokens_keeps_what_the_in_memory_filter_keeps(within):
    from hub.linkage.partitioned.stage_block import shared_tokens
    from hub.linkage.tokens import _shared_tokens

    rng = np.random.default_rng(3)
    raws = []
    for n in (5_000, 4_000, 300):
        hi = rng.integers(0, 6_000, n).astype(np.int64)
        raws.append((hi, rng.integers(0, 9, n).astype(np.int64), np.sort(rng.integers(0, n, n))))
    ours = shared_tokens(raws, within)
    theirs = _shared_tokens(raws, within if any(within) else None)
    for mine, reference in zip(ours, theirs, strict=True):
        for a, b in zip(mine, reference, strict=True):
            assert np.array_equal(a, b)
