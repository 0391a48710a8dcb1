"""Fixtures of the in-process CLI tests (helpers: :mod:`tests.cli_support`)."""

from __future__ import annotations

from typing import Any

import pytest

from fedlink import hub_options


@pytest.fixture
def cli_hub(hub: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The ``hub`` fixture, with ``fedlink`` commands sent to it in process."""
    monkeypatch.setattr(hub_options, "transport", hub.client._transport)
    monkeypatch.setenv("FEDLINK_HUB_URL", "http://hub.test")
    monkeypatch.delenv("FEDLINK_TOKEN", raising=False)
    return hub
