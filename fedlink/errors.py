"""Errors of the composition root.

``CommandError`` carries a one-line message for the user; :func:`fedlink.cli.main` prints it
as ``fedlink: error: <message>`` and exits with ``exit_code`` (2 by default). Any other
package's documented base error (``protocol.errors.ProtocolError`` and the node's and hub's
own) is printed the same way, so no traceback ever reaches a user.
"""

from __future__ import annotations


class CommandError(Exception):
    """A user-facing failure of a ``fedlink`` command."""

    def __init__(self, message: str, *, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code
