"""Settings fail fast on unsafe values; key files are private; serve checks the schema."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from hub.api.app import create_app
from hub.db.engine import make_engine
from hub.errors import ConfigError
from hub.keys import create_hub_keys, load_hub_keys
from hub.settings import HubSettings


@pytest.mark.parametrize(("overrides", "expected"), [
    ({"governance_quorum": 0}, "governance_quorum"),
    ({"governance_quorum": 4}, "looser than governance_quorum"),
    ({"quorum_by_classification": {"secret": 5}}, "unknown classification"),
    ({"database_url": "mysql://db/hub"}, "sqlite:// or postgresql://"),
    ({"user_token_ttl_days": 0}, "user_token_ttl_days"),
    ({"surprise": 1}, "surprise"),
])
def test_unsafe_settings_refused(tmp_path: Path, overrides, expected) -> None:
    with pytest.raises(ConfigError, match=expected):
        HubSettings.load(tmp_path, **overrides)


def test_settings_from_toml_overridden_by_environment(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "hub.toml").write_text("governance_quorum = 3\nport = 9000\n"
                                       "[quorum_by_classification]\nrestricted = 4\n")
    settings = HubSettings.load(tmp_path)
    assert (settings.governance_quorum, settings.port) == (3, 9000)
    assert settings.database_url == f"sqlite:///{tmp_path / 'hub.db'}"
    assert settings.quorum_for({"internal"}) == 3 and settings.quorum_for({"restricted"}) == 4
    monkeypatch.setenv("FEDLINK_HUB_PORT", "9100")
    monkeypatch.setenv("FEDLINK_HUB_DATABASE_URL", "postgresql://u@db/hub")
    settings = HubSettings.load(tmp_path)
    assert settings.port == 9100 and settings.database_url == "postgresql://u@db/hub"


def test_keys_private_and_never_replaced(tmp_path: Path) -> None:
    keys = create_hub_keys(tmp_path / "k")
    assert stat.S_IMODE((tmp_path / "k").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "k" / "signing.key").stat().st_mode) == 0o600
    assert load_hub_keys(tmp_path / "k").signing_kid == keys.signing_kid
    with pytest.raises(ConfigError, match="refusing to replace"):
        create_hub_keys(tmp_path / "k")
    (tmp_path / "k" / "hpke.key").chmod(0o640)
    with pytest.raises(ConfigError, match="readable by others"):
        load_hub_keys(tmp_path / "k")


def test_serve_refuses_a_database_not_at_the_newest_schema(tmp_path: Path) -> None:
    keys = create_hub_keys(tmp_path / "hub")
    settings = HubSettings.load(tmp_path / "hub")
    engine = make_engine(settings.database_url)
    try:
        with pytest.raises(ConfigError, match="schema revision none"):
            create_app(settings, keys=keys, engine=engine)
    finally:
        engine.dispose()
