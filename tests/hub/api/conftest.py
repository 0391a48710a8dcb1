"""Fixtures of the API tests beyond tests/hub/conftest.py."""

from __future__ import annotations

from typing import Any

import pytest

from tests.hub.conftest import CATALOG

#: One more K12 variable, internal (the quorum stays 2), for amendments to add.
ATTENDANCE = {"name": "attendance", "type": "number", "years": list(range(2015, 2025)),
              "classification": "internal", "description": "Days attended"}


@pytest.fixture
def amend_hub(make_hub: Any) -> Any:
    """A hub (K12 and HE enrolled) whose K12 also offers ``attendance``: the amendment
    tests (docs/amendments.md) add it to an approved project."""
    hub = make_hub()
    hub.enroll("K12", [*CATALOG["K12"], ATTENDANCE])
    hub.enroll("HE")
    return hub
