"""The client package stands alone: importing it (and its CLI) loads none of the server's
packages or heavy dependencies, so ``pip install fedlink_client-*.whl`` is enough."""

from __future__ import annotations

import subprocess
import sys

FORBIDDEN = ("fastapi", "sqlalchemy", "pandas", "hub", "protocol", "fedlink", "agency_node",
             "starlette", "typer", "recordlinkage", "faker")


def test_importing_fedlink_client_loads_no_server_package() -> None:
    code = ("import sys, fedlink_client, fedlink_client.cli;"
            "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=60).stdout.split()
    assert "httpx" in loaded and "pydantic" in loaded and "cryptography" in loaded
    assert [name for name in FORBIDDEN if name in loaded] == []


def test_the_package_declares_only_its_three_dependencies() -> None:
    from importlib.metadata import requires

    names = sorted(r.split(">")[0].split("=")[0].strip() for r in requires("fedlink-client") or [])
    assert names == ["cryptography", "httpx", "pydantic"]
