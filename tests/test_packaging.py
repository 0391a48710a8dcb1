"""Packaging an operator can trust (docs/install.md).

* Extras: a node's code paths import no module that only an extra installs; a command whose
  extra is missing says which one in one line; ``fedlink.extras`` and pyproject agree.
* Locks: each Docker image's hash-pinned lock (deploy/requirements-*.lock, ``make lock``)
  pins every runtime dependency of the image's extra, in a version the specifier allows,
  and the node's lock holds no Faker, recordlinkage, pandas or Splink.
* The release (slow): ``python -m build`` makes both wheels and sdists (the wheel from the
  sdist), a clean virtual environment gets the node lock (``--require-hashes``) and the
  wheels by file (``--no-index --no-deps``), and the installed node and hub start.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
import textwrap
import time
import tomllib
import zipfile
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from fedlink.extras import COMMAND_EXTRAS, DISTRIBUTION, MODULE_EXTRAS, missing_extra_message

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
CLIENT = tomllib.loads((ROOT / "client" / "pyproject.toml").read_text())
#: Distributions a production node must not hold (the issue: "neither faker nor recordlinkage").
NOT_ON_A_NODE = {"faker", "recordlinkage", "pandas", "scikit-learn", "scipy", "splink",
                 "duckdb", "jinja2", "dask", "distributed"}
#: Import names of the modules only an extra installs (and what they pull in).
EXTRA_MODULES = sorted(MODULE_EXTRAS)
#: Import name of a distribution, where it is not the distribution's own name.
IMPORT_NAME = {"python-multipart": "multipart", "scikit-learn": "sklearn"}
#: The platform of the Docker images the locks are for (python:3.11-slim on Linux).
IMAGE_ENV = default_environment() | {"python_version": "3.11", "python_full_version": "3.11.7",
                                     "sys_platform": "linux", "platform_system": "Linux",
                                     "os_name": "posix", "implementation_name": "cpython",
                                     "platform_python_implementation": "CPython"}

_BLOCKER = textwrap.dedent("""\
    import importlib.abc, sys
    BLOCKED = set(sys.argv.pop(1).split(","))
    class Blocker(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    sys.meta_path.insert(0, Blocker())
    """)


def _without(modules: list[str], code: str, *args: str, cwd: Path | None = None
             ) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter in which ``modules`` cannot be imported."""
    return subprocess.run([sys.executable, "-c", _BLOCKER + code, ",".join(modules), *args],
                          capture_output=True, text=True, timeout=120, check=False,
                          cwd=cwd or ROOT)


def runtime_requirements(extra: str) -> list[Requirement]:
    """What an image of ``extra`` installs directly: the base, the extra, the client (not
    Fedlink's own two distributions, which are installed by file)."""
    project = PYPROJECT["project"]
    ours = {DISTRIBUTION, canonicalize_name(CLIENT["project"]["name"])}
    found = [Requirement(text) for text in (*project["dependencies"],
                                            *project["optional-dependencies"][extra],
                                            *CLIENT["project"]["dependencies"])]
    return [req for req in found if canonicalize_name(req.name) not in ours
            and (req.marker is None or req.marker.evaluate(IMAGE_ENV | {"extra": extra}))]


def read_lock(path: Path) -> dict[str, list[tuple[str, str | None, int]]]:
    """name -> [(version, marker, hash count)] of a uv/pip-compile lock with hashes."""
    pins: dict[str, list[tuple[str, str | None, int]]] = {}
    for block in re.split(r"\n(?=\S)", path.read_text()):
        line = block.splitlines()[0] if block.strip() else ""
        if not line or line.startswith("#"):
            continue
        spec, _, marker = line.rstrip(" \\").partition(";")
        name, _, version = spec.strip().partition("==")
        pins.setdefault(canonicalize_name(name), []).append(
            (version, marker.strip() or None, block.count("--hash=sha256:")))
    return pins


# --- extras ------------------------------------------------------------------------------


_K12 = ("student_id,first_name,last_name,birth_date,zip,grade\n"
        "S1,Mary,Smith,2001-02-03,23220,9\nS2,Jose,Hernandez,2002-03-04,23221,10\n")


def test_node_code_paths_import_no_module_an_extra_installs(tmp_path: Path) -> None:
    """Every module of protocol and agency_node, `fedlink node` init, secret import and
    ingest, and the help of the node's commands, with every extra-only module unimportable."""
    (tmp_path / "k12.csv").write_text(_K12)
    (tmp_path / "federation.secret").write_text(os.urandom(32).hex() + "\n")
    code = textwrap.dedent("""\
        import importlib, pkgutil, sys
        from fedlink.cli import main
        for root in ("protocol", "agency_node"):
            package = importlib.import_module(root)
            for info in pkgutil.walk_packages(package.__path__, root + "."):
                if not info.name.endswith(".migrations.env"):  # run by alembic only
                    importlib.import_module(info.name)
        for args in (["--help"], ["node", "--help"], ["node", "serve", "--help"],
                     ["pki", "--help"], ["audit", "--help"],
                     ["node", "init", "--agency", "K12", "--name", "Education", "--dir", "n",
                      "--source", "k12.csv"],
                     ["node", "secret", "import", "federation.secret", "--dir", "n"],
                     ["node", "ingest", "--dir", "n"]):
            try:
                main(args)
            except SystemExit as exit_:
                assert not exit_.code, (args, exit_.code)
        loaded = {m.split(".")[0] for m in sys.modules}
        print(sorted(loaded & {"hub", "pandas", "faker", "recordlinkage", "jinja2"}))
        """)
    done = _without(EXTRA_MODULES, code, cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"
    assert (tmp_path / "n" / "node.sqlite3").exists()


def test_a_command_without_its_extra_fails_in_one_line_naming_the_extra(tmp_path: Path) -> None:
    code = "import sys\nfrom fedlink.cli import main\nmain(sys.argv[1:])\n"
    done = _without(["faker"], code, "synth", "--people", "20", "--out", str(tmp_path))
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert lines[0].startswith("fedlink: error: fedlink synth needs the synth extra (faker ")
    assert "[synth]'" in lines[0] and "docs/install.md" in lines[0]


def test_missing_extra_messages_name_what_the_command_needs() -> None:
    def message(module: str, *args: str) -> str | None:
        return missing_extra_message(ModuleNotFoundError(f"No module named {module!r}",
                                                         name=module), list(args))

    assert "the hub,synth extras" in (message("faker", "demo", "--people", "9") or "")
    assert "the hub extra" in (message("pandas", "hub", "serve") or "")
    assert "the node extra (psycopg" in (message("psycopg", "node", "ingest") or "")
    assert "the bench extra" in (message("splink.internals", "bench") or "")
    assert message("sqlalchemy", "node", "serve") is None  # a base dependency: broken install
    assert missing_extra_message(ImportError("x"), ["synth"]) is None


def test_the_extras_table_matches_pyproject() -> None:
    extras = PYPROJECT["project"]["optional-dependencies"]
    assert {"node", "hub", "synth", "bench", "test"} <= set(extras)
    for extra, names in extras.items():
        if extra == "test":
            continue
        for req in map(Requirement, names):
            if canonicalize_name(req.name) == DISTRIBUTION:
                continue  # bench = fedlink-vlds[hub,synth] + its own
            module = IMPORT_NAME.get(req.name, req.name.replace("-", "_"))
            assert extra in MODULE_EXTRAS.get(module, ()), (extra, req.name)
    base = {canonicalize_name(Requirement(r).name) for r in PYPROJECT["project"]["dependencies"]}
    assert not base & NOT_ON_A_NODE, base & NOT_ON_A_NODE
    assert set(COMMAND_EXTRAS.values()) <= {tuple(x.split(",")) for x in
                                            ("hub", "node", "synth", "bench", "hub,synth")}
    assert PYPROJECT["project"]["name"] == DISTRIBUTION


# --- locks ---------------------------------------------------------------------------------


@pytest.mark.parametrize("extra", ["node", "hub"])
def test_the_image_lock_pins_every_runtime_dependency(extra: str) -> None:
    lock = ROOT / "deploy" / f"requirements-{extra}.lock"
    pins = read_lock(lock)
    for req in runtime_requirements(extra):
        name = canonicalize_name(req.name)
        assert name in pins, f"{lock.name} misses {name}: run `make lock`"
        versions = [v for v, marker, _ in pins[name]
                    if marker is None or Requirement(f"x; {marker}").marker.evaluate(IMAGE_ENV)]
        assert versions and all(req.specifier.contains(v, prereleases=True) for v in versions), (
            f"{lock.name} pins {name} {versions}, pyproject wants {req}: run `make lock`")
    assert all(hashes for entries in pins.values() for _, _, hashes in entries)
    assert "fedlink-client" not in pins and DISTRIBUTION not in pins  # installed by file
    if extra == "node":
        assert not NOT_ON_A_NODE & set(pins), NOT_ON_A_NODE & set(pins)
    if extra == "hub":
        assert {"pandas", "recordlinkage", "psycopg-binary", "httptools", "uvloop"} <= set(pins)


def test_the_build_lock_pins_the_build_backend_and_the_dockerfile_uses_the_locks() -> None:
    pins = read_lock(ROOT / "deploy" / "requirements-build.lock")
    for text in PYPROJECT["build-system"]["requires"]:
        req = Requirement(text)
        (version, _, hashes), = pins[canonicalize_name(req.name)]
        assert req.specifier.contains(version) and hashes
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    role_lock = 'pip install --require-hashes --no-deps -r "deploy/requirements-$ROLE.lock"'
    assert role_lock in dockerfile
    assert "pip install --require-hashes --no-deps -r deploy/requirements-build.lock" in dockerfile
    assert "pip install --no-index --no-deps /wheels/*.whl" in dockerfile
    assert "pip check" in dockerfile
    assert not re.search(r"pip install (?!--)", dockerfile)  # nothing by name, unpinned


# --- the release (slow) --------------------------------------------------------------------


def _run(*args: str | Path, cwd: Path | None = None, timeout: int = 300,
         env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True,
                          timeout=timeout, check=False, cwd=cwd,
                          env={**os.environ, **(env or {})})
    assert done.returncode == 0, f"{args}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done


def _source_files(*roots: str) -> set[str]:
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard",
                             *roots], capture_output=True, text=True, cwd=ROOT, check=True)
    return {f for f in listed.stdout.split() if "__pycache__" not in f
            and (ROOT / f).is_file()}


def _venv(path: Path) -> Path:
    """A clean virtual environment (no pip: installers run from outside it)."""
    _run(sys.executable, "-m", "venv", "--without-pip", path)
    return path / "bin" / "python"


def _uv_install(python: Path, *args: str) -> None:
    _run(sys.executable, "-m", "uv", "pip", "install", "--quiet", "--python", python, *args)


@pytest.mark.slow
def test_wheels_install_by_file_into_a_clean_venv_and_the_node_and_hub_start(
        tmp_path: Path) -> None:
    started = time.monotonic()
    laps: list[str] = []

    def lap(what: str) -> None:
        laps.append(f"{what} {time.monotonic() - started:.0f} s")

    dist = tmp_path / "dist"
    # Both builds at once: sdist first, then the wheel built from the sdist (so a file the
    # sdist misses fails the wheel or the checks below). uv installs the isolated build
    # environments (setuptools from the index), which is what keeps this test short.
    builds = [subprocess.Popen([sys.executable, "-m", "build", "--installer", "uv",
                                "--outdir", str(dist), str(source)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
              for source in (ROOT, ROOT / "client")]
    for build in builds:
        output, _ = build.communicate(timeout=300)
        assert build.returncode == 0, output[-3000:]
    lap("built")
    version = PYPROJECT["project"]["version"]
    wheel = dist / f"fedlink_vlds-{version}-py3-none-any.whl"
    client_wheel = dist / f"fedlink_client-{CLIENT['project']['version']}-py3-none-any.whl"
    sdist = dist / f"fedlink_vlds-{version}.tar.gz"
    assert {p.name for p in dist.iterdir()} == {
        wheel.name, client_wheel.name, sdist.name,
        f"fedlink_client-{CLIENT['project']['version']}.tar.gz"}

    # Every file of the packages (templates, static files, migrations, JSON, name lists) is
    # in the wheel; the licence and the changelog are in the sdist.
    in_wheel = set(zipfile.ZipFile(wheel).namelist())
    missing = _source_files("protocol", "agency_node", "hub", "fedlink") - in_wheel
    assert not missing, sorted(missing)[:20]
    assert f"fedlink_vlds-{version}.dist-info/licenses/LICENSE" in in_wheel
    with tarfile.open(sdist) as archive:
        in_sdist = {n.split("/", 1)[1] for n in archive.getnames() if "/" in n}
    assert {"LICENSE", "CHANGELOG.md", "README.md", "pyproject.toml", "MANIFEST.in"} <= in_sdist
    assert not any(n.startswith("tests/") for n in in_sdist)

    # A node, as docs/install.md installs it: the hash-pinned lock, then both wheels by
    # file with no index at all (pip from this venv, run against the clean one).
    python = _venv(tmp_path / "node")
    _uv_install(python, "--require-hashes", "--no-deps", "-r",
                str(ROOT / "deploy" / "requirements-node.lock"))
    _run(sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-index",
         "--no-deps", client_wheel, wheel)
    _run(sys.executable, "-m", "uv", "pip", "check", "--python", python)  # the lock suffices
    lap("node installed")
    fedlink = python.parent / "fedlink"
    work = tmp_path / "work"
    work.mkdir()
    assert _run(fedlink, "--version", cwd=work).stdout.strip() == f"fedlink {version}"
    assert "serve" in _run(fedlink, "node", "--help", cwd=work).stdout
    found = _run(python, "-c", "import agency_node.api.app, importlib.util as u, sys; "
                 "print(sorted(m for m in sys.argv[1:] if u.find_spec(m)))", *EXTRA_MODULES,
                 cwd=work)
    assert found.stdout.strip() == "['psycopg']"  # the node extra's only package
    # init reads the name lists (package data); ingest without extras: the fast test above.
    (work / "k12.csv").write_text(_K12)
    init = _run(fedlink, "node", "init", "--agency", "K12", "--name", "Education", "--dir",
                "node", "--source", "k12.csv", cwd=work, env={"COLUMNS": "240"})
    assert "values look like surnames (100% on the name lists)" in init.stdout, init.stdout
    synth = subprocess.run([fedlink, "synth", "--people", "20", "--out", "synth"], cwd=work,
                           capture_output=True, text=True, timeout=60, check=False)
    assert synth.returncode == 1 and "needs the synth extra" in synth.stderr, synth.stderr
    assert len(synth.stderr.strip().splitlines()) == 1
    lap("node checked")

    # The hub's lock on top: `fedlink hub init` runs the hub's migrations from the wheel.
    _uv_install(python, "--require-hashes", "--no-deps", "-r",
                str(ROOT / "deploy" / "requirements-hub.lock"))
    _run(sys.executable, "-m", "uv", "pip", "check", "--python", python)
    assert "hub initialised" in _run(fedlink, "hub", "init", "--dir", "hub", cwd=work).stdout
    # The API and web apps import from the wheel, with /docs' own assets present (no CDN).
    assets = _run(python, "-c", "import hub.api.app, hub.web.app; from hub.api.docs import "
                  "ASSETS; print(sum(path.is_file() for _, path in ASSETS.values()))").stdout
    assert assets.strip() == "3", assets
    lap("hub checked")

    # The researcher's client alone: httpx, cryptography and pydantic, nothing of the server.
    client = _venv(tmp_path / "client")
    with zipfile.ZipFile(client_wheel) as archive:
        metadata = archive.read(f"fedlink_client-{CLIENT['project']['version']}.dist-info/"
                                "METADATA").decode()
    requires = {canonicalize_name(Requirement(line.split(":", 1)[1]).name)
                for line in metadata.splitlines() if line.startswith("Requires-Dist:")
                and "extra ==" not in line}
    assert requires == {"httpx", "cryptography", "pydantic"}
    _uv_install(client, str(client_wheel))
    listed = _run(sys.executable, "-m", "uv", "pip", "list", "--python", client,
                  "--format", "freeze").stdout
    installed = {canonicalize_name(line.split("==")[0]) for line in listed.splitlines()}
    assert not installed & ({"fastapi", "sqlalchemy", "numpy", "pyarrow", "typer", "psycopg",
                             DISTRIBUTION} | NOT_ON_A_NODE), installed
    _run(client, "-c", "import fedlink_client", cwd=work)
    lap("client checked")
    print("packaging round trip:", ", ".join(laps))
