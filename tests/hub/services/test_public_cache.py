"""PublicCache: answers kept for a time, forgotten on clear, never stored across a clear."""

from __future__ import annotations

from hub.services.public_cache import MAX_ENTRIES, PublicCache


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_public_cache_answer_expires_after_its_seconds() -> None:
    clock = Clock()
    cache = PublicCache(1.0, clock=clock)
    cache.put("k", {"a": 1}, generation=cache.generation)
    clock.now += 0.9
    assert cache.get("k") == {"a": 1}
    clock.now += 0.1
    assert cache.get("k") is None


def test_public_cache_fill_started_before_a_clear_is_not_stored() -> None:
    cache = PublicCache(60, clock=Clock())
    generation = cache.generation
    cache.clear()  # a write landed while the answer was being computed
    cache.put("k", "stale", generation=generation)
    assert cache.get("k") is None
    cache.put("k", "fresh", generation=cache.generation)
    assert cache.get("k") == "fresh"


def test_public_cache_zero_seconds_keeps_nothing() -> None:
    cache = PublicCache(0)
    cache.put("k", 1, generation=cache.generation)
    assert not cache.enabled
    assert cache.get("k") is None


def test_public_cache_bounded_oldest_key_goes_first() -> None:
    cache = PublicCache(60, clock=Clock())
    for i in range(MAX_ENTRIES + 1):
        cache.put(i, i, generation=cache.generation)
    assert cache.get(0) is None
    assert cache.get(1) == 1
    assert cache.get(MAX_ENTRIES) == MAX_ENTRIES
