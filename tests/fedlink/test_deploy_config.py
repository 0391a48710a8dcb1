"""deploy/: the example configurations are valid settings, the compose file is accepted by
`docker compose config` (when a compose tool is installed), and the image and the systemd
units keep their safety properties (non-root, healthcheck, hardening)."""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import tomlkit

from agency_node.config import NodeConfig
from hub.settings import HubSettings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SERVICES = {"db", "hub", "hub-assembler", "node-k12", "node-highered", "node-workforce"}


def compose_command() -> list[str] | None:
    """`docker compose` (the CLI plugin) or the standalone `docker-compose`, if present."""
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True,
                                 check=False).returncode == 0:
        return [docker, "compose"]
    standalone = shutil.which("docker-compose")
    return [standalone] if standalone else None


def test_hub_toml_example_is_valid_hub_settings(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("FEDLINK_HUB_")]:
        monkeypatch.delenv(name)
    shutil.copy(DEPLOY / "config" / "hub.toml.example", tmp_path / "hub.toml")
    settings = HubSettings.load(tmp_path)
    assert settings.database_url.startswith("postgresql+psycopg://")
    assert settings.ssl_certfile and settings.ca_file and not settings.allow_insecure_http


def test_hub_toml_example_explains_policy_training_and_refresh_settings(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.hub.cli.test_hub_toml_settings import NAMED, uncommented_examples

    for name in [n for n in os.environ if n.startswith("FEDLINK_HUB_")]:
        monkeypatch.delenv(name)
    text = (DEPLOY / "config" / "hub.toml.example").read_text(encoding="utf-8")
    for name in NAMED:
        assert name in HubSettings.model_fields, name
        assert re.search(rf"^(# )?{name} = ", text, re.MULTILINE), name
    # Its commented examples (review checklist, requester rules) are valid once uncommented.
    (tmp_path / "hub.toml").write_text(uncommented_examples(text) + text, encoding="utf-8")
    settings = HubSettings.load(tmp_path)
    assert [c.id for c in settings.review_criteria] == ["public_benefit", "minimum_necessary"]
    assert settings.requester_rules.vendor.extra_quorum == 1
    assert settings.require_irb_approval and settings.refresh_retry_hours == 24


def test_node_toml_example_is_a_valid_node_config() -> None:
    data = tomlkit.parse((DEPLOY / "config" / "node.toml.example").read_text()).unwrap()
    config = NodeConfig.model_validate(data)
    assert config.store.url.startswith("postgresql+psycopg://")
    assert config.server.ssl_keyfile and config.hub.ca_file
    assert config.hub.url.startswith("https://")


def test_compose_file_is_accepted_by_docker_compose_config(tmp_path: Path) -> None:
    command = compose_command()
    if command is None:
        pytest.skip("neither `docker compose` (CLI plugin) nor `docker-compose` is installed; "
                    "on Debian: apt-get install docker-compose")
    # An empty --env-file: an operator's deploy/.env must not change the result.
    (tmp_path / "empty.env").write_text("")
    compose = [*command, "--env-file", str(tmp_path / "empty.env"), "-f",
               str(DEPLOY / "docker-compose.yml")]
    env = {**os.environ, "FEDLINK_DB_PASSWORD": "test-only-password"}
    checked = subprocess.run([*compose, "config", "--services"], capture_output=True, text=True,
                             env=env, timeout=60, check=False)
    assert checked.returncode == 0, checked.stderr
    assert set(checked.stdout.split()) == SERVICES
    env.pop("FEDLINK_DB_PASSWORD")
    missing = subprocess.run([*compose, "config"], capture_output=True, text=True, env=env,
                             timeout=60, check=False)
    assert missing.returncode != 0 and "FEDLINK_DB_PASSWORD" in missing.stderr


def test_compose_services_use_tls_volumes_and_readiness() -> None:
    text = (DEPLOY / "docker-compose.yml").read_text()
    for node in ("node-k12", "node-highered", "node-workforce"):
        assert f"/etc/fedlink/tls/{node}.key" in text and f"./certs/{node}:" in text
    assert "condition: service_healthy" in text and "/ready" in text
    assert "allow_insecure_http" not in text.lower() and "ALLOW_INSECURE" not in text


def test_dockerfile_runs_as_non_root_with_a_healthcheck() -> None:
    lines = [line.strip() for line in (DEPLOY / "Dockerfile").read_text().splitlines()]
    assert "FROM python:3.11-slim" in lines
    users = [line for line in lines if line.startswith("USER ")]
    assert users and all("root" not in user and " 0" not in user for user in users)
    assert any(line.startswith("HEALTHCHECK") for line in lines)
    root = DEPLOY.parent
    for line in lines:
        if line.startswith("COPY ") and "--from" not in line:
            for source in line.split()[1:-1]:
                assert (root / source).exists(), source


@pytest.mark.parametrize("unit", ["fedlink-hub.service", "fedlink-hub-assembler.service",
                                  "fedlink-node@.service"])
def test_systemd_units_are_hardened(unit: str) -> None:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(DEPLOY / "systemd" / unit)
    service = parser["Service"]
    assert service["User"] == "fedlink"
    assert (service["NoNewPrivileges"], service["ProtectSystem"], service["PrivateTmp"]) == (
        "yes", "strict", "yes")
    assert service["ReadWritePaths"].startswith("/var/lib/fedlink/")
    assert service["CapabilityBoundingSet"] == "" and service["UMask"] == "0077"


def test_only_the_assembler_reaches_the_assembly_key() -> None:
    """Separation of duties: the linkage role (hub) never mounts or reaches the assembly
    key's directory; the assembler does."""
    text = (DEPLOY / "docker-compose.yml").read_text().split("\nservices:\n")[1]
    text = text.split("\nvolumes:\n")[0]
    blocks = re.split(r"^  ([a-z0-9-]+):\n", text, flags=re.MULTILINE)[1:]
    mounts = {name: "\n".join(line for line in body.splitlines()
                              if line.lstrip().startswith("- "))
              for name, body in zip(blocks[::2], blocks[1::2], strict=True)}
    assert set(mounts) == SERVICES
    assert "hub-assembly:" in mounts["hub-assembler"]
    assert [n for n, m in mounts.items() if "hub-assembly" in m] == ["hub-assembler"]
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.read(DEPLOY / "systemd" / "fedlink-hub.service")
    assert "/var/lib/fedlink/assembly" in parser["Service"]["InaccessiblePaths"]
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.read(DEPLOY / "systemd" / "fedlink-hub-assembler.service")
    assert "--assembly-dir /var/lib/fedlink/assembly" in parser["Service"]["ExecStart"]
    # …and the assembler cannot read the linkage role's private keys (it could otherwise
    # sign a match request with the hub signing key).
    hidden = parser["Service"]["InaccessiblePaths"].split()
    assert {"-/var/lib/fedlink/hub/signing.key", "-/var/lib/fedlink/hub/hpke.key"} <= set(hidden)


def _published_ports() -> dict[str, list[str]]:
    """Each compose service's ``ports:`` entries (host side included)."""
    text = (DEPLOY / "docker-compose.yml").read_text().split("\nservices:\n")[1]
    text = text.split("\nvolumes:\n")[0]
    blocks = re.split(r"^  ([a-z0-9-]+):\n", text, flags=re.MULTILINE)[1:]
    found: dict[str, list[str]] = {}
    for name, body in zip(blocks[::2], blocks[1::2], strict=True):
        section = re.search(r"^    ports:\n((?:      .*\n)+)", body + "\n", flags=re.MULTILINE)
        lines = section.group(1).splitlines() if section else []
        found[name] = [line.strip()[2:].strip().strip('"') for line in lines
                       if line.strip().startswith("- ")]
    return found


def test_compose_publishes_node_ports_and_metrics_on_loopback_only() -> None:
    """Nodes are reached by the hub on the compose network; on the host only operators on
    127.0.0.1 reach them (and their /metrics). The hub's public port serves an API whose
    /metrics needs the metrics token or a loopback caller (tests/hub/api/test_hub_ops.py)."""
    ports = _published_ports()
    for node in ("node-k12", "node-highered", "node-workforce"):
        assert ports[node] and all(p.startswith("127.0.0.1:") for p in ports[node]), ports[node]
    assert ports["db"] == [] and ports["hub-assembler"] == []
    assert ports["hub"] == ["8100:8100"]
    # No service publishes a separate metrics port on all interfaces.
    for name, entries in ports.items():
        for entry in entries:
            assert entry.startswith("127.0.0.1:") or name == "hub", (name, entry)


@pytest.mark.parametrize("unit", ["fedlink-hub.service", "fedlink-hub-assembler.service",
                                  "fedlink-node@.service"])
def test_systemd_units_do_not_restart_on_a_configuration_error(unit: str) -> None:
    # Exit 2 is every start-up refusal (bad TOML, corrupt secret, unsafe key file).
    text = (DEPLOY / "systemd" / unit).read_text()
    assert "Restart=on-failure" in text and "RestartPreventExitStatus=2" in text


def test_compose_restart_policy_is_bounded() -> None:
    # Docker cannot exempt exit 2 from a restart policy: "always"/"unless-stopped" would
    # restart a refused configuration forever; on-failure with a retry cap gives up.
    text = (DEPLOY / "docker-compose.yml").read_text()
    fedlink = text.split("x-fedlink: &fedlink", 1)[1].split("\nx-", 1)[0]
    assert re.search(r"^\s+restart: on-failure:\d+$", fedlink, re.M), fedlink


def test_nodes_run_the_node_image_and_the_hub_roles_the_hub_image() -> None:
    """Two images from deploy/Dockerfile: a node's (ROLE=node, its lock holds no Faker,
    recordlinkage or pandas: tests/test_packaging.py) and the hub's (ROLE=hub)."""
    import yaml

    services = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())["services"]
    for name, service in services.items():
        if name == "db":
            continue
        role = "node" if name.startswith("node-") else "hub"
        assert service["image"] == f"fedlink-{role}:0.1.0", name
        assert service["build"]["args"] == {"ROLE": role}, name
        assert service["build"]["dockerfile"] == "deploy/Dockerfile"
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "ARG ROLE=node" in dockerfile and '"deploy/requirements-$ROLE.lock"' in dockerfile
