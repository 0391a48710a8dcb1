"""The hub.toml `fedlink hub init` writes names and explains the policy, training and
refresh settings, loads as it is, and its commented examples load too once uncommented;
`fedlink hub sweep` reports the scheduled refreshes it started and the next ones due."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from hub.settings import HubSettings
from tests.cli_support import run
from tests.hub.runs.test_scheduled_refresh_e2e import _age
from tests.hub.services.test_refresh import _ready, _runs

#: Settings an operator must find in hub.toml with what they do (issue 16).
NAMED = ("require_irb_approval", "required_training", "require_training", "review_criteria",
         "requester_rules", "extract_sweep_seconds", "refresh_retry_hours")


def uncommented_examples(text: str) -> str:
    """The commented-out ``review_criteria`` and ``requester_rules`` examples, as TOML."""
    lines, taking = [], False
    for line in text.splitlines():
        body = line.removeprefix("# ")
        if body.startswith(("review_criteria = [", "requester_rules = {")):
            taking = True
        if taking and line.startswith("# "):
            lines.append(body)
        if taking and (body == "]" or body.startswith("requester_rules")):
            taking = False
    return "\n".join(lines) + "\n"


@pytest.fixture(autouse=True)
def _no_hub_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("FEDLINK_HUB_")]:
        monkeypatch.delenv(name)


def test_init_hub_toml_names_the_policy_and_refresh_settings(tmp_path: Path,
                                                              capsys: Any) -> None:
    directory = tmp_path / "hub"
    code, _, err = run(capsys, "hub", "init", "--dir", str(directory))
    assert code == 0, err
    text = (directory / "hub.toml").read_text(encoding="utf-8")
    for name in NAMED:
        assert name in HubSettings.model_fields, name
        assert re.search(rf"^(# )?{name} = ", text, re.MULTILINE), name
        # Each is explained by a comment at most two lines above it.
        above = text[:text.index(f"{name} = ")].removesuffix("# ").splitlines()[-2:]
        assert any(line.startswith("# ") and " = " not in line for line in above), name
    settings = HubSettings.load(directory)
    assert settings.require_irb_approval and settings.require_training
    assert settings.required_training == ["data-privacy"]
    assert settings.refresh_retry_hours == 24
    # The commented examples are valid settings once uncommented.
    examples = uncommented_examples(text)
    assert "review_criteria" in examples and "requester_rules" in examples
    (directory / "hub.toml").write_text(examples + text, encoding="utf-8")
    customised = HubSettings.load(directory)
    assert [c.id for c in customised.review_criteria] == ["public_benefit",
                                                           "minimum_necessary"]
    assert customised.requester_rules.vendor.record_level_extract is False


def test_hub_sweep_reports_the_refreshes_it_started(make_hub: Any, capsys: Any) -> None:
    hub = make_hub()
    hub.enroll("K12")
    hub.enroll("HE")
    request_id, _, _, first = _ready(hub)  # annual refresh
    settings = hub.ctx.settings
    (settings.dir / "hub.toml").write_text(f'database_url = "{settings.database_url}"\n')
    code, out, err = run(capsys, "hub", "sweep", "--dir", str(settings.dir))
    assert code == 0, err
    assert "0 scheduled refresh run(s) started" in out
    assert re.search(rf"next refresh of {request_id} \(annual\): due 20\d\d-", out), out

    _age(hub, first, 366)  # the last run ended a year and a day ago
    code, out, err = run(capsys, "hub", "sweep", "--dir", str(settings.dir))
    assert code == 0, err
    (refresh,) = [r.id for r in _runs(hub, request_id) if r.id != first]
    assert "1 scheduled refresh run(s) started" in out
    assert f"refresh started: {refresh}" in out
    assert f"{refresh} is queued" in out  # the next one counts from its end

