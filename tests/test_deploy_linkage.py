"""deploy/: the linkage cluster (docs/scaling.md; deploy/README.md, "Linkage at scale").

Docker Compose (docker-compose.cluster.yml on top of docker-compose.yml) and Kubernetes
(deploy/kubernetes/) keep one contract: the scheduler and the workers run the hub image;
the workers connect to the scheduler address the hub is configured with; the run's work
volume is mounted at the same path in the hub and in every worker, and is the hub's
``linkage_workdir``; workers mount no key, certificate or hub directory; memory is bounded
with Dask's own limit below the container's. `docker compose config` and `kubectl
kustomize` check the files when those tools are installed."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from hub.settings import HubSettings
from tests.fedlink.test_deploy_config import compose_command

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
KUBERNETES = DEPLOY / "kubernetes"
BASE = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
CLUSTER = yaml.safe_load((DEPLOY / "docker-compose.cluster.yml").read_text())
#: Volumes of the hub that hold keys, certificates, settings or extracts.
KEY_SOURCES = ("hub-data", "hub-assembly", "./certs")
_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "kb": 10**3, "mb": 10**6,
          "gb": 10**9, "ki": 1 << 10, "mi": 1 << 20, "gi": 1 << 30, "kib": 1 << 10,
          "mib": 1 << 20, "gib": 1 << 30}


def size(text: str) -> int:
    """Bytes of a size as Docker (8g), Dask (6GiB, 6GB = 6·10⁹) or Kubernetes (8Gi) write it."""
    found = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([a-z]*)", str(text).strip().lower())
    assert found and found[2] in _UNITS, text
    return int(float(found[1]) * _UNITS[found[2]])


def option(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def mounts(service: dict[str, Any]) -> dict[str, str]:
    """target path -> source (volume name, host path, or "" for an anonymous volume)."""
    found = {}
    for entry in service.get("volumes", []):
        parts = entry.split(":")
        source, target = (parts[0], parts[1]) if len(parts) > 1 else ("", parts[0])
        found[target] = source
    return found


def test_cluster_workers_run_the_hub_image_against_the_hubs_scheduler() -> None:
    hub_env = CLUSTER["services"]["hub"]["environment"]
    scheduler = CLUSTER["services"]["dask-scheduler"]
    worker = CLUSTER["services"]["hub-linkage-worker"]
    for service in (scheduler, worker):
        assert service["image"] == BASE["services"]["hub"]["image"]
        assert service["build"]["args"] == {"ROLE": "hub"}
        assert service["command"][0] == "dask"
    address = hub_env["FEDLINK_HUB_LINKAGE_SCHEDULER"]
    assert worker["command"][:3] == ["dask", "worker", address]
    host, port = address.removeprefix("tcp://").rsplit(":", 1)
    assert host == "dask-scheduler" and option(scheduler["command"], "--port") == port
    # One single-threaded worker process per container: `--scale` sets the parallelism.
    assert option(worker["command"], "--nworkers") == "1"
    assert option(worker["command"], "--nthreads") == "1"
    assert worker["depends_on"]["dask-scheduler"] == {"condition": "service_healthy"}


def test_cluster_work_volume_is_shared_at_the_hubs_workdir_and_workers_see_no_keys() -> None:
    hub = CLUSTER["services"]["hub"]
    worker = CLUSTER["services"]["hub-linkage-worker"]
    workdir = hub["environment"]["FEDLINK_HUB_LINKAGE_WORKDIR"]
    assert mounts(hub)[workdir] == mounts(worker)[workdir] == "hub-linkage-work"
    assert "hub-linkage-work" in CLUSTER["volumes"]
    # The work directory is not the hub directory (keys) nor inside it.
    hub_dir = next(t for t, s in mounts(BASE["services"]["hub"]).items() if s == "hub-data")
    assert not Path(workdir).is_relative_to(hub_dir)
    for name in ("hub-linkage-worker", "dask-scheduler"):
        service = CLUSTER["services"][name]
        sources = set(mounts(service).values())
        assert sources <= {"hub-linkage-work", ""}, (name, sources)
        assert not any(s.startswith(KEY_SOURCES) for s in sources)
        assert "environment" not in service or not any(
            "DATABASE_URL" in key or "PASSWORD" in key for key in service["environment"])
        # Only the internal linkage network: no node, no database, no published port.
        assert service["networks"] == ["linkage"] and "ports" not in service
    assert CLUSTER["networks"]["linkage"]["internal"] is True
    assert set(CLUSTER["services"]["hub"]["networks"]) == {"default", "linkage"}
    # The image creates both mount points owned by the hub's user: a new volume takes the
    # owner of the image's directory, so the workers (uid 10001) can write to it.
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert workdir in dockerfile and "/var/lib/fedlink/dask" in dockerfile
    assert mounts(worker)["/var/lib/fedlink/dask"] == ""  # spill space of its own
    assert option(worker["command"], "--local-directory") == "/var/lib/fedlink/dask"


def test_cluster_services_are_hardened_and_memory_bounded() -> None:
    for name in ("dask-scheduler", "hub-linkage-worker"):
        service = CLUSTER["services"][name]
        assert service["read_only"] is True and service["cap_drop"] == ["ALL"]
        assert service["security_opt"] == ["no-new-privileges:true"]
        assert re.fullmatch(r"on-failure:\d+", service["restart"])
        assert service["healthcheck"]["test"][-1] == "/usr/local/bin/fedlink-healthcheck"
        assert size(service["mem_limit"]) > 0
    worker = CLUSTER["services"]["hub-linkage-worker"]
    dask_limit = size(option(worker["command"], "--memory-limit"))
    # Dask pauses and restarts its worker before the container's limit kills it, and a task
    # sized by the hub's linkage_worker_memory_gb fits it with the local cluster's margin.
    assert dask_limit <= 0.8 * size(worker["mem_limit"])
    task_gib = float(CLUSTER["services"]["hub"]["environment"]
                     ["FEDLINK_HUB_LINKAGE_WORKER_MEMORY_GB"])
    assert dask_limit >= 1.5 * task_gib * (1 << 30)


def test_cluster_hub_settings_from_compose_are_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("FEDLINK_HUB_")]:
        monkeypatch.delenv(name)
    for key, value in CLUSTER["services"]["hub"]["environment"].items():
        monkeypatch.setenv(key, value)
    # The hub's directory as the container sees it (the workdir must lie outside it).
    hub_dir = next(t for t, s in mounts(BASE["services"]["hub"]).items() if s == "hub-data")
    if (Path(hub_dir) / "hub.toml").exists():
        pytest.skip(f"{hub_dir} holds a hub on this machine; its hub.toml would be read")
    settings = HubSettings.load(Path(hub_dir))
    assert settings.linkage_scheduler == "tcp://dask-scheduler:8786"
    assert settings.linkage_engine == "partitioned"
    assert settings.linkage_workdir == "/var/lib/fedlink/linkage-work"
    assert settings.linkage_worker_memory_gb == 4.0


def test_the_hub_image_lock_holds_dask_and_distributed() -> None:
    lock = (DEPLOY / "requirements-hub.lock").read_text()
    node_lock = (DEPLOY / "requirements-node.lock").read_text()
    for name in ("dask", "distributed"):
        assert re.search(rf"^{name}==\S+ \\$", lock, re.MULTILINE), name
        assert not re.search(rf"^{name}==", node_lock, re.MULTILINE), name


def test_cluster_compose_files_are_accepted_by_docker_compose(tmp_path: Path) -> None:
    command = compose_command()
    if command is None:
        pytest.skip("neither `docker compose` (CLI plugin) nor `docker-compose` is installed; "
                    "on Debian: apt-get install docker-compose")
    (tmp_path / "empty.env").write_text("")
    compose = [*command, "--env-file", str(tmp_path / "empty.env"),
               "-f", str(DEPLOY / "docker-compose.yml"),
               "-f", str(DEPLOY / "docker-compose.cluster.yml")]
    env = {**os.environ, "FEDLINK_DB_PASSWORD": "test-only-password"}
    checked = subprocess.run([*compose, "config", "-q"], capture_output=True, text=True,
                             env=env, timeout=60, check=False)
    assert checked.returncode == 0, checked.stderr
    merged = subprocess.run([*compose, "config"], capture_output=True, text=True, env=env,
                            timeout=60, check=False)
    assert merged.returncode == 0, merged.stderr
    services = yaml.safe_load(merged.stdout)["services"]
    assert {"dask-scheduler", "hub-linkage-worker", "hub", "hub-assembler"} <= set(services)
    hub_env = services["hub"]["environment"]
    assert hub_env["FEDLINK_HUB_LINKAGE_SCHEDULER"] == "tcp://dask-scheduler:8786"
    assert "FEDLINK_HUB_DATABASE_URL" in hub_env  # the base's environment kept
    # The long form (compose v2) or the short "source:target[:mode]" (docker-compose 1.x).
    targets = {v["target"] if isinstance(v, dict) else v.split(":")[1]
               for v in services["hub"]["volumes"]}
    assert {"/var/lib/fedlink/hub", "/var/lib/fedlink/linkage-work"} <= targets


# --- Kubernetes ----------------------------------------------------------------------------


def kubernetes_objects() -> dict[tuple[str, str], dict[str, Any]]:
    """(kind, name) -> object of every manifest the kustomization lists."""
    kustomization = yaml.safe_load((KUBERNETES / "kustomization.yaml").read_text())
    found = {}
    for resource in kustomization["resources"]:
        for document in yaml.safe_load_all((KUBERNETES / resource).read_text()):
            found[(document["kind"], document["metadata"]["name"])] = document
    return found


def test_kustomization_lists_every_manifest() -> None:
    kustomization = yaml.safe_load((KUBERNETES / "kustomization.yaml").read_text())
    files = {p.name for p in KUBERNETES.glob("*.yaml")} - {"kustomization.yaml"}
    assert sorted(kustomization["resources"]) == sorted(files)


def test_kubernetes_workers_run_the_hub_image_against_the_hubs_scheduler(
        tmp_path: Path) -> None:
    objects = kubernetes_objects()
    config = objects[("ConfigMap", "fedlink-hub-linkage")]["data"]
    scheduler = objects[("Deployment", "dask-scheduler")]["spec"]["template"]["spec"]
    worker_deployment = objects[("Deployment", "hub-linkage-worker")]
    worker = worker_deployment["spec"]["template"]["spec"]
    images = {c["image"] for c in scheduler["containers"] + worker["containers"]}
    assert images == {BASE["services"]["hub"]["image"]}
    address = config["FEDLINK_HUB_LINKAGE_SCHEDULER"]
    (container,) = worker["containers"]
    assert container["command"][:3] == ["dask", "worker", address]
    host, port = address.removeprefix("tcp://").rsplit(":", 1)
    service = objects[("Service", host)]
    assert int(port) in {p["port"] for p in service["spec"]["ports"]}
    assert service["spec"]["selector"] == \
        objects[("Deployment", "dask-scheduler")]["spec"]["selector"]["matchLabels"]
    assert option(scheduler["containers"][0]["command"], "--port") == port
    assert worker_deployment["spec"]["replicas"] >= 1
    assert option(container["command"], "--nthreads") == "1"
    # The hub's settings accept the ConfigMap as it is.
    settings = HubSettings.load(tmp_path, **{k.removeprefix("FEDLINK_HUB_").lower(): v
                                             for k, v in config.items()})
    assert settings.linkage_scheduler == address


def test_kubernetes_work_volume_is_shared_read_write_many_and_workers_see_no_keys() -> None:
    objects = kubernetes_objects()
    config = objects[("ConfigMap", "fedlink-hub-linkage")]["data"]
    claim = objects[("PersistentVolumeClaim", "hub-linkage-work")]
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    for name in ("dask-scheduler", "hub-linkage-worker"):
        pod = objects[("Deployment", name)]["spec"]["template"]["spec"]
        assert pod["automountServiceAccountToken"] is False
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] == 10001  # the image's user
        for volume in pod["volumes"]:
            # Only the work claim and scratch space: no secret, config file or host path.
            assert set(volume) - {"name"} <= {"emptyDir", "persistentVolumeClaim"}, volume
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"]["drop"] == ["ALL"]
            assert "env" not in container and "envFrom" not in container
    worker = objects[("Deployment", "hub-linkage-worker")]["spec"]["template"]["spec"]
    claims = {v["name"]: v["persistentVolumeClaim"]["claimName"] for v in worker["volumes"]
              if "persistentVolumeClaim" in v}
    (container,) = worker["containers"]
    mounted = {m["mountPath"]: claims.get(m["name"]) for m in container["volumeMounts"]}
    assert mounted[config["FEDLINK_HUB_LINKAGE_WORKDIR"]] == "hub-linkage-work"
    assert worker["securityContext"]["fsGroup"] == 10001


def test_kubernetes_workers_memory_is_bounded_below_the_pod_limit() -> None:
    objects = kubernetes_objects()
    worker = objects[("Deployment", "hub-linkage-worker")]["spec"]["template"]["spec"]
    (container,) = worker["containers"]
    resources = container["resources"]
    assert resources["limits"]["memory"] == resources["requests"]["memory"] == "8Gi"
    dask_limit = size(option(container["command"], "--memory-limit"))
    assert dask_limit <= 0.8 * size("8Gi")
    config = objects[("ConfigMap", "fedlink-hub-linkage")]["data"]
    assert dask_limit >= 1.5 * float(config["FEDLINK_HUB_LINKAGE_WORKER_MEMORY_GB"]) * (1 << 30)
    scheduler = objects[("Deployment", "dask-scheduler")]["spec"]["template"]["spec"]
    assert size(scheduler["containers"][0]["resources"]["limits"]["memory"]) > 0


def test_kubernetes_network_policy_admits_only_the_linkage_pods() -> None:
    objects = kubernetes_objects()
    policy = objects[("NetworkPolicy", "fedlink-linkage")]["spec"]
    (selected,) = policy["podSelector"]["matchExpressions"]
    assert set(selected["values"]) == {"dask-scheduler", "hub-linkage-worker"}
    (rule,) = policy["ingress"]
    assert rule["from"] == [{"podSelector": {"matchLabels": {
        "app.kubernetes.io/part-of": "fedlink-linkage"}}}]
    for name in ("dask-scheduler", "hub-linkage-worker"):
        labels = objects[("Deployment", name)]["spec"]["template"]["metadata"]["labels"]
        assert labels["app.kubernetes.io/part-of"] == "fedlink-linkage"


def test_kubernetes_manifests_build_with_kustomize() -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed (it builds the kustomization offline)")
    built = subprocess.run([kubectl, "kustomize", str(KUBERNETES)], capture_output=True,
                           text=True, timeout=60, check=False)
    assert built.returncode == 0, built.stderr
    kinds = sorted(d["kind"] for d in yaml.safe_load_all(built.stdout))
    assert kinds == ["ConfigMap", "Deployment", "Deployment", "NetworkPolicy",
                     "PersistentVolumeClaim", "Service"]
