"""The node stream bench step (fedlink/bench/node_stream.py): one agency node answers one
signed match request in a process of its own, and the step reports what it streamed and
the node's and its encoding workers' peak memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from fedlink.bench.ladder_report import ladder_tables
from fedlink.bench.worker import STEPS


def test_node_stream_step_streams_every_record_in_several_batches(tmp_path: Path) -> None:
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"records": 2000, "batch_size": 500,
                                "work_dir": str(tmp_path)}))
    out = tmp_path / "out.json"
    # A low threshold so the encoding worker pool runs, as it does on a real agency's size.
    env = {**os.environ, "FEDLINK_ENCODING_PARALLEL_THRESHOLD": "500"}
    done = subprocess.run(
        [sys.executable, "-m", "fedlink.bench.worker", "fedlink.node_stream", str(spec),
         str(out)], capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(out.read_text())
    assert result["records"] == 2000
    assert result["units"] == 2000
    assert result["rows"] == result["units"]
    assert result["batches"] == 4  # pages of 500 units
    assert result["bytes"] > 0
    assert result["seconds"]["setup"] > 0 and result["seconds"]["stream"] > 0
    assert result["rows_per_second"] > 0
    assert result["node_peak_rss_bytes"] >= result["node_rss_before_stream_bytes"] > 0
    assert result["peak_rss_bytes"] == result["node_peak_rss_bytes"]
    tenths = result["node_rss_by_tenth_bytes"]
    assert len(tenths) == 10 and 0 < max(tenths) <= result["node_peak_rss_bytes"]
    assert result["worker_peak_rss_bytes"] > 0
    assert result["setup_peak_rss_bytes"] > 0
    stages = [json.loads(line)["stage"] for line in done.stdout.splitlines()]
    assert [s.split(":")[0] for s in stages] == ["setup", "stream"]
    # The step cleans up after itself: no node, keys or source left in the work dir.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json", "spec.json"]
    assert STEPS["fedlink.node_stream"] == "fedlink.bench.node_stream:run"
    rendered = ladder_tables({"ladder": {"sizes": {}, "workers": {}, "cpus": 2,
                                         "workers_size": 1, "node": {"status": "ok",
                                                                     "result": result}}})
    (table,) = rendered
    assert table.title.startswith("Agency node streaming one match request")
    assert table.rows[0][:3] == ["2,000", "2,000", "4"]
