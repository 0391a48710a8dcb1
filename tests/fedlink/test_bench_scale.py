"""The scale benchmark's prepared tables: the node's bytes, cached, with their truth."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.ipc
import pytest

from fedlink.bench import scale
from fedlink.bench.datasets import synth_sides
from fedlink.bench.fedlink_runner import encode_identities, normalize_frame
from protocol.normalize import NormalizationOptions


@pytest.mark.slow
def test_prepared_tables_are_the_node_encoding_and_are_reused(tmp_path, monkeypatch):
    monkeypatch.setattr(scale, "_CHUNK", 150)  # several chunks per side
    spec = {"size": 400, "seed": 3, "cache_dir": str(tmp_path)}
    first = scale.prepare(spec)
    assert first["cached"] is False
    k12, _ = synth_sides(400, 3)
    with pa.OSFile(f"{first['dir']}/k12.arrow") as source:
        prepared = pa.ipc.open_file(source).read_all()
    expected, pids = encode_identities(
        k12["record_id"].tolist(), normalize_frame(k12, NormalizationOptions()),
        scale.bench_keys(),
    )
    assert prepared.equals(expected)  # same rows, same bytes, same order
    truth = pd.read_parquet(f"{first['dir']}/k12-truth.parquet")
    assert truth["pid"].tolist() == pids
    assert truth["truth_id"].tolist() == k12["truth_id"].tolist()
    assert scale.prepare(spec)["cached"] is True
