"""The load section of `fedlink bench` (fedlink.bench.load) against a real `fedlink hub
serve` process: a smoke run of two clients for one second on SQLite, and its table."""

from __future__ import annotations

import pytest

from fedlink.bench.load import load_table, run


@pytest.mark.e2e
def test_load_step_serves_a_real_hub_and_reports_codes_and_latency() -> None:
    result = run({"clients": [2], "seconds": 1, "postgresql_url": ""})
    sqlite = result["databases"]["sqlite"]
    assert sqlite["status"] == "ok"
    (step,) = sqlite["steps"]
    assert step["clients"] == 2 and step["requests"] > 0
    assert step["codes"].get("200", 0) == step["ok"] > 0
    assert step["server_errors"] == 0
    assert 0 < step["p50_ms"] <= step["p99_ms"]
    assert sqlite["empty_read_ms"] > 0
    assert result["databases"]["postgresql"]["status"] == "skipped"
    table = load_table({"load": {"status": "ok", "result": result}})
    assert table is not None and table.rows[0][:2] == ["SQLite", "2"]
    assert any("PostgreSQL: no PostgreSQL answers" in note for note in table.notes)


def test_load_table_absent_when_the_step_did_not_run() -> None:
    assert load_table({}) is None
    assert load_table({"load": {"status": "failed", "detail": "x"}}) is None
