"""The linkage_* settings (docs/scaling.md): safe defaults for one server, a Dask scheduler
address checked at load time, and the environment overriding hub.toml."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from hub.errors import ConfigError
from hub.settings import HubSettings


@pytest.fixture(autouse=True)
def _no_hub_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("FEDLINK_HUB_")]:
        monkeypatch.delenv(name)


def test_linkage_settings_default_to_one_server(tmp_path: Path) -> None:
    settings = HubSettings.load(tmp_path)
    assert settings.linkage_engine == "auto"
    assert settings.linkage_memory_max_records == 3_000_000
    assert settings.linkage_scheduler == "local"
    assert (settings.linkage_workers, settings.linkage_worker_memory_gb) == (0, 6.0)
    assert (settings.linkage_partitions, settings.linkage_workdir) == (0, "")


@pytest.mark.parametrize("address", ["tcp://dask-scheduler:8786", "tls://10.0.0.5:8786",
                                     "tcp://[fd00::5]:8786", " serial ", "local"])
def test_linkage_scheduler_accepts_local_serial_and_dask_addresses(
        tmp_path: Path, address: str) -> None:
    settings = HubSettings.load(tmp_path / "hub", linkage_scheduler=address,
                                linkage_workdir=str(tmp_path / "linkage-work"))
    assert settings.linkage_scheduler == address.strip()


@pytest.mark.parametrize("workdir", ["", "{dir}", "{dir}/linkage-work", "{dir}/../hub/x"])
def test_a_dask_scheduler_needs_a_workdir_outside_the_hub_directory(
        tmp_path: Path, workdir: str) -> None:
    """Workers mount the work directory: inside the hub directory they would see its keys."""
    directory = tmp_path / "hub"
    with pytest.raises(ConfigError) as refused:
        HubSettings.load(directory, linkage_scheduler="tcp://dask-scheduler:8786",
                         linkage_workdir=workdir.format(dir=directory))
    message = str(refused.value)
    assert message.startswith("hub settings: linkage_scheduler: ") and "\n" not in message
    assert "outside the hub directory" in message
    # On one server the default (DIR/linkage-work) is right: no other process mounts it.
    assert HubSettings.load(directory, linkage_scheduler="local").linkage_workdir == ""


@pytest.mark.parametrize("address", ["dask-scheduler:8786", "http://dask:8786",
                                     "tcp://dask-scheduler", "tcp://dask:0", "tcp://dask:99999",
                                     "tcp://da sk:8786", "LocalCluster", ""])
def test_linkage_scheduler_refuses_what_is_not_an_address_in_one_line(
        tmp_path: Path, address: str) -> None:
    with pytest.raises(ConfigError) as refused:
        HubSettings.load(tmp_path, linkage_scheduler=address)
    message = str(refused.value)
    assert message.startswith("hub settings: linkage_scheduler: ") and "\n" not in message
    assert "tcp://host:port" in message and repr(address) in message


@pytest.mark.parametrize(("overrides", "expected"), [
    ({"linkage_engine": "spark"}, "linkage_engine"),
    ({"linkage_memory_max_records": 0}, "linkage_memory_max_records"),
    ({"linkage_workers": 257}, "linkage_workers"),
    ({"linkage_workers": -1}, "linkage_workers"),
    ({"linkage_worker_memory_gb": 0}, "linkage_worker_memory_gb"),
    ({"linkage_partitions": -1}, "linkage_partitions"),
])
def test_linkage_sizes_out_of_range_refused(tmp_path: Path, overrides, expected) -> None:
    with pytest.raises(ConfigError, match=f"hub settings: {expected}: "):
        HubSettings.load(tmp_path, **overrides)


def test_linkage_scheduler_from_environment_overrides_hub_toml(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "hub.toml").write_text(
        'linkage_engine = "partitioned"\nlinkage_scheduler = "serial"\nlinkage_workers = 4\n'
        'linkage_workdir = "/srv/linkage-work"\n')
    settings = HubSettings.load(tmp_path)
    assert (settings.linkage_engine, settings.linkage_scheduler) == ("partitioned", "serial")
    assert (settings.linkage_workers, settings.linkage_workdir) == (4, "/srv/linkage-work")
    monkeypatch.setenv("FEDLINK_HUB_LINKAGE_SCHEDULER", "tcp://dask-scheduler:8786")
    monkeypatch.setenv("FEDLINK_HUB_LINKAGE_WORKDIR", "/var/lib/fedlink/linkage-work")
    assert not Path("/var/lib/fedlink/linkage-work").is_relative_to(tmp_path)
    settings = HubSettings.load(tmp_path)
    assert settings.linkage_scheduler == "tcp://dask-scheduler:8786"
    assert settings.linkage_workdir == "/var/lib/fedlink/linkage-work"
    monkeypatch.setenv("FEDLINK_HUB_LINKAGE_SCHEDULER", "dask-scheduler:8786")
    with pytest.raises(ConfigError, match=r"linkage_scheduler: .*tcp://host:port"):
        HubSettings.load(tmp_path)


def test_every_linkage_setting_is_explained_in_the_example_and_init_writes_them(
        tmp_path: Path) -> None:
    from hub.services.setup import init_hub

    names = [name for name in HubSettings.model_fields if name.startswith("linkage_")]
    assert len(names) == 7
    example = (Path(__file__).resolve().parents[2] / "deploy" / "config"
               / "hub.toml.example").read_text(encoding="utf-8")
    for name in names:
        assert re.search(rf"^(# )?{name} = ", example, re.MULTILINE), name
    init_hub(tmp_path / "hub")
    written = (tmp_path / "hub" / "hub.toml").read_text(encoding="utf-8")
    for name in ("linkage_engine", "linkage_scheduler", "linkage_workers", "linkage_workdir"):
        assert re.search(rf"^(# )?{name} = ", written, re.MULTILINE), name
    assert "docs/scaling.md" in written
    settings = HubSettings.load(tmp_path / "hub")
    assert (settings.linkage_engine, settings.linkage_scheduler) == ("auto", "local")
