"""The dependency rules of docs/engineering.md, enforced on the source tree with ``ast``.

* ``protocol/`` is pure: no web, database, network, process or event-loop modules, no
  service packages, and no file I/O (builtin ``open``, ``Path.read_*``/``write_*`` …).
* ``hub/`` never imports ``agency_node`` and ``agency_node`` never imports ``hub``; neither
  imports the composition root ``fedlink``. They talk only over HTTP.

The checker is :func:`violations`; the first tests prove it catches each kind of breach,
so the tree scans below cannot pass by checking nothing.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROTOCOL_FORBIDDEN = frozenset(
    {
        # web, HTTP, database: services only
        "fastapi",
        "starlette",
        "uvicorn",
        "httpx",
        "requests",
        "aiohttp",
        "urllib.request",
        "http.client",
        "http.server",
        "sqlalchemy",
        "alembic",
        "psycopg",
        "sqlite3",
        # network, processes, event loops
        "socket",
        "socketserver",
        "ssl",
        "subprocess",
        "asyncio",
        "multiprocessing",
        # files on disk
        "shutil",
        "tempfile",
        # the packages that depend on protocol, never the other way round
        "hub",
        "agency_node",
        "fedlink",
    }
)
HUB_FORBIDDEN = frozenset({"agency_node", "fedlink"})
NODE_FORBIDDEN = frozenset({"hub", "fedlink"})

# Method names that read or write files whatever the receiver (Path, os, io, gzip…). Pure
# code has no reason to call any of them, so matching by name is safe and cannot be
# dodged by aliasing the receiver.
FILE_IO_METHODS = frozenset(
    {
        "open",
        "read_text",
        "read_bytes",
        "write_text",
        "write_bytes",
        "touch",
        "unlink",
        "mkdir",
        "rmdir",
        "iterdir",
    }
)


def _is_forbidden(module: str, forbidden: Iterable[str]) -> bool:
    return any(module == name or module.startswith(name + ".") for name in forbidden)


def _imported_modules(node: ast.AST) -> list[str]:
    """Absolute module names an import statement or dynamic import call loads."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        # "from http import client" loads http.client: check both spellings.
        return [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
    if isinstance(node, ast.Call) and node.args:
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        first = node.args[0]
        if name in {"__import__", "import_module"} and isinstance(first, ast.Constant):
            return [str(first.value)]
    return []


def _file_io_call(node: ast.AST) -> str | None:
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    if isinstance(func, ast.Name) and func.id == "open":
        return "open()"
    if isinstance(func, ast.Attribute) and func.attr in FILE_IO_METHODS:
        return f".{func.attr}()"
    return None


def violations(source: str, *, forbidden: Iterable[str], forbid_file_io: bool) -> list[str]:
    """Every breach in ``source``: ``"line N: imports X"`` / ``"line N: file I/O via …"``."""
    forbidden = frozenset(forbidden)
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        for module in _imported_modules(node):
            if _is_forbidden(module, forbidden):
                found.append(f"line {getattr(node, 'lineno', '?')}: imports {module}")
        call = _file_io_call(node) if forbid_file_io else None
        if call is not None:
            found.append(f"line {getattr(node, 'lineno', '?')}: file I/O via {call}")
    return sorted(set(found))


def _scan(package: str, *, forbidden: Iterable[str], forbid_file_io: bool) -> dict[str, list[str]]:
    root = ROOT / package
    assert root.is_dir(), f"{package}/ is missing: the rule would check nothing"
    files = sorted(root.rglob("*.py"))
    assert files, f"{package}/ has no Python files: the rule would check nothing"
    report = {}
    for path in files:
        found = violations(
            path.read_text(encoding="utf-8"), forbidden=forbidden, forbid_file_io=forbid_file_io
        )
        if found:
            report[str(path.relative_to(ROOT))] = found
    return report


# --- the checker catches what it must ------------------------------------------------------


@pytest.mark.parametrize(
    "snippet",
    [
        "import fastapi",
        "from starlette.requests import Request",
        "import sqlalchemy.orm as orm",
        "from httpx import AsyncClient",
        "import uvicorn",
        "import requests",
        "import socket",
        "import subprocess",
        "import asyncio",
        "from asyncio import open_connection",
        "from http import client",
        "from urllib.request import urlopen",
        "def f():\n    import hub.services",
        "import importlib\nimportlib.import_module('agency_node.store')",
        "__import__('httpx')",
    ],
)
def test_checker_catches_forbidden_import(snippet: str) -> None:
    assert violations(snippet, forbidden=PROTOCOL_FORBIDDEN, forbid_file_io=True)


@pytest.mark.parametrize(
    "snippet",
    [
        "data = open('secret.key', 'rb').read()",
        "with open(path) as f:\n    pass",
        "from pathlib import Path\nPath('x').read_text()",
        "p.read_bytes()",
        "p.write_text('x')",
        "p.write_bytes(b'x')",
        "import os\nos.open('x', 0)",
        "import io\nio.open('x')",
        "Path('k').touch()",
    ],
)
def test_checker_catches_file_io(snippet: str) -> None:
    assert any(
        "file I/O" in v
        for v in violations(snippet, forbidden=PROTOCOL_FORBIDDEN, forbid_file_io=True)
    )


def test_checker_accepts_pure_code() -> None:
    snippet = (
        "import hashlib, hmac, json, base64\n"
        "from pathlib import PurePosixPath\n"
        "from cryptography.hazmat.primitives import hpke\n"
        "from protocol.errors import ProtocolError\n"
        "from . import canonical\n"
        "import httpx_like_but_not_httpx\n"
        "'a|b'.replace('|', '=')\n"
        "open_sealed(b'', key, info=b'')\n"
        "reader.read(10)\n"
    )
    assert violations(snippet, forbidden=PROTOCOL_FORBIDDEN, forbid_file_io=True) == []


def test_checker_reports_line_numbers() -> None:
    found = violations("import json\n\nimport socket\n", forbidden={"socket"}, forbid_file_io=False)
    assert found == ["line 3: imports socket"]


def test_service_rules_catch_cross_imports() -> None:
    assert violations(
        "from agency_node.api import app", forbidden=HUB_FORBIDDEN, forbid_file_io=False
    )
    assert violations("import hub.errors", forbidden=NODE_FORBIDDEN, forbid_file_io=False)
    assert violations("from fedlink.cli import main", forbidden=HUB_FORBIDDEN, forbid_file_io=False)
    # Services may read files (config, keys) and import protocol.
    assert not violations(
        "from protocol.signing import verify\nopen('node.toml')",
        forbidden=NODE_FORBIDDEN,
        forbid_file_io=False,
    )


# --- the tree obeys the rules ----------------------------------------------------------------


def test_protocol_is_pure() -> None:
    report = _scan("protocol", forbidden=PROTOCOL_FORBIDDEN, forbid_file_io=True)
    assert report == {}, f"protocol/ must be pure code: {report}"


def test_protocol_scan_covers_the_signing_modules() -> None:
    scanned = {path.name for path in (ROOT / "protocol").rglob("*.py")}
    assert {"signing.py", "payload.py", "wire.py", "canonical.py"} <= scanned


def test_hub_never_imports_agency_node() -> None:
    report = _scan("hub", forbidden=HUB_FORBIDDEN, forbid_file_io=False)
    assert report == {}, f"hub/ talks to nodes over HTTP only: {report}"


def test_agency_node_never_imports_hub() -> None:
    report = _scan("agency_node", forbidden=NODE_FORBIDDEN, forbid_file_io=False)
    assert report == {}, f"agency_node/ talks to the hub over HTTP only: {report}"
