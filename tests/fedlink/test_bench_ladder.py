"""The scale ladder's data and its partitioned runs (``fedlink.bench.scale_ladder``)."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

from fedlink.bench import scale, scale_ladder
from fedlink.bench.ladder_report import ladder_tables, target_rows


def _read(directory: str, name: str) -> pa.Table:
    return pa.ipc.open_file(pa.memory_map(f"{directory}/{name}.arrow")).read_all()


@pytest.mark.slow
def test_smaller_ladder_size_cut_from_a_larger_cache_equals_preparing_it(tmp_path, monkeypatch):
    monkeypatch.setattr(scale, "CHUNK_RECORDS", 200)
    monkeypatch.setattr(scale_ladder, "CHUNK_RECORDS", 200)
    larger = scale.prepare({"size": 600, "seed": 2, "cache_dir": str(tmp_path / "a")})
    cut = scale_ladder.prepare_ladder({"size": 400, "seed": 2, "cache_dir": str(tmp_path / "a")})
    assert cut["derived_from"] == larger["dir"].rsplit("/", 1)[1]
    prepared = scale.prepare({"size": 400, "seed": 2, "cache_dir": str(tmp_path / "b")})
    for name in scale.SIDES:
        assert _read(cut["dir"], name).equals(_read(prepared["dir"], name))
        assert pd.read_parquet(f"{cut['dir']}/{name}-truth.parquet").equals(
            pd.read_parquet(f"{prepared['dir']}/{name}-truth.parquet"))
    # Chunks are independent populations with ids of their own.
    truth = pd.read_parquet(f"{larger['dir']}/k12-truth.parquet")
    assert truth["truth_id"].str.startswith(("c0-", "c1-", "c2-")).all()
    assert truth["pid"].is_unique


@pytest.mark.slow
def test_partitioned_ladder_run_reports_every_process_and_scores(tmp_path):
    prepared = scale.prepare({"size": 1500, "seed": 4, "cache_dir": str(tmp_path)})
    result = scale_ladder.link_partitioned({"dir": prepared["dir"], "workers": 2,
                                            "work_dir": str(tmp_path)})
    assert result["workers"] == 2
    assert len(result["worker_peak_rss_bytes"]) == 2
    assert result["peak_rss_bytes"] >= max(result["worker_peak_rss_bytes"])
    assert result["peak_rss_bytes"] >= result["driver_peak_rss_bytes"]
    assert set(result["task_seconds"]) == {"partition", "block", "index", "compare", "score"}
    assert result["pairs"][0]["f1"] > 0.9
    rendered = ladder_tables({"ladder": {
        "sizes": {"1500": {"status": "ok", "result": result}},
        "workers": {"2": {"status": "ok", "result": result}},
        "cpus": 2, "workers_size": 1500}})
    assert [t.title.split(":")[0] for t in rendered] == [
        "Hub linkage scale ladder", "Hub linkage by worker count (1,500 × 1,500, 2 CPUs)"]
    assert rendered[0].rows[0][0] == "1,500 × 1,500"
    assert rendered[1].rows[0][2] == "1.00×"


def _ten_million(f1: float, seconds: float = 300.0) -> dict:
    result = {"seconds": {"link": seconds}, "peak_rss_bytes": 3 * 10**9,
              "pairs": [{"f1": f1}]}
    return {"ladder": {"sizes": {"10000000": {"status": "ok", "result": result}}},
            "scale": {"fedlink": {"status": "ok", "result": {"pairs": [{"f1": 0.98}]}}}}


def test_ten_million_target_met_only_when_it_links_as_well_as_one_million():
    rows = target_rows(_ten_million(0.9568))
    assert [row[-1] for row in rows] == ["yes", "yes"]
    # Fast and small but linking nothing (the first 10M run): the quality target fails.
    rows = target_rows(_ten_million(0.0))
    assert [row[-1] for row in rows] == ["yes", "**no**"]
    assert [row[-1] for row in target_rows(_ten_million(0.97, seconds=700.0))] == [
        "**no**", "yes"]
