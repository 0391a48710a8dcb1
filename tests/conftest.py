"""Fixtures shared across the test tree."""

from __future__ import annotations

from collections.abc import Callable

import pytest


@pytest.fixture
def worker_pool(monkeypatch: pytest.MonkeyPatch) -> Callable[[], list[int]]:
    """Call it to make the parallel encoders fan any input out to a real pool of two worker
    processes; it returns the worker count of each fan-out, so a test can assert the pool
    really ran."""
    from agency_node.services import parallel_encoding

    fan_outs: list[int] = []
    real_in_order = parallel_encoding._in_order

    def in_order(fn, chunks, workers):
        fan_outs.append(workers)
        return real_in_order(fn, chunks, workers)

    def enable() -> list[int]:
        monkeypatch.setattr(parallel_encoding, "PARALLEL_THRESHOLD", 1)
        monkeypatch.setattr(parallel_encoding.os, "cpu_count", lambda: 2)
        monkeypatch.setattr(parallel_encoding, "_in_order", in_order)
        return fan_outs

    return enable
