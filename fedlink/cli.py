"""The ``fedlink`` command.

Sub-commands live in :mod:`fedlink.commands`; every module there exposes
``register(app: typer.Typer) -> None`` and is registered here, so adding a command never
means editing this file. :func:`main` is the console entry point: it turns every expected
failure into one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
from collections.abc import Sequence

import typer
from typer._click.exceptions import ClickException  # typer >= 0.29 vendors click

from fedlink import commands
from fedlink.errors import CommandError

app = typer.Typer(
    name="fedlink",
    help="Federated, privacy-preserving record linkage for state longitudinal data systems.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register_commands() -> None:
    for module_info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{module_info.name}")
        register = getattr(module, "register", None)
        if register is None:
            raise RuntimeError(f"fedlink.commands.{module_info.name} has no register(app)")
        register(app)


_register_commands()


def _user_errors() -> tuple[type[BaseException], ...]:
    """The documented base errors of every package: shown as one line, never a traceback."""
    from protocol.errors import ProtocolError

    found: list[type[BaseException]] = [CommandError, ProtocolError]
    packages = (("hub.errors", "HubError"), ("agency_node.errors", "NodeError"))
    for module_name, class_name in packages:
        try:
            module = importlib.import_module(module_name)
        except ImportError:  # pragma: no cover - the package is part of the distribution
            continue
        found.append(getattr(module, class_name))
    return tuple(found)


def _fail(message: str, code: int) -> None:
    print(f"fedlink: error: {message}", file=sys.stderr)
    sys.exit(code)


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        app(args=args, prog_name="fedlink", standalone_mode=False)
    except typer.Exit as exit_:
        sys.exit(exit_.exit_code)
    except typer.Abort:
        _fail("aborted", 130)
    except ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except _user_errors() as exc:
        _fail(str(exc), getattr(exc, "exit_code", 2))
    except OSError as exc:
        # Files that cannot be read or written, ports in use, unreachable services.
        _fail(f"{exc.strerror or exc}{f': {exc.filename}' if exc.filename else ''}", 2)
    except Exception as exc:
        if os.environ.get("FEDLINK_DEBUG"):
            raise
        _fail(f"unexpected {type(exc).__name__}: {exc} (set FEDLINK_DEBUG=1 for details)", 1)


if __name__ == "__main__":  # pragma: no cover
    main()
