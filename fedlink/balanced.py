"""Several ``hub serve`` worker processes, each accepting on a listening socket of its own.

uvicorn's supervisor hands every worker the one shared listening socket, and whichever
worker's event loop wakes first accepts a whole burst of waiting connections: with 200
clients connecting at once, two workers held 117 and 83, 120 and 80, 112 and 88 of them
(measured, issue 20), and the busier one set the p99. Here each worker slot gets its own
socket bound to the same address with ``SO_REUSEPORT``, so the kernel spreads new
connections over the workers by a hash of the connection (on average evenly, whatever
the bursts), and a worker that dies is replaced on its slot's socket: connections that
arrive meanwhile wait in that socket's queue and are served by the replacement.

:func:`bind_group` binds the sockets (after checking, without ``SO_REUSEPORT``, that no
one else holds the port — with it, another server of the same user could silently share
the port); :class:`BalancedMultiprocess` is uvicorn's supervisor with one socket per slot.
It leans on the supervisor's attributes (``processes``, ``sockets``) and on its methods
starting workers with ``Process(config, self.sockets)`` — uvicorn 0.55 (pinned as the
minimum); tests/hub/test_hub_workers_e2e.py runs it against real processes.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from uvicorn.supervisors import Multiprocess
from uvicorn.supervisors.multiprocess import Process


def bind_group(count: int, bind_one: Callable[..., socket.socket]) -> list[socket.socket]:
    """``count`` listening sockets on one address, with ``SO_REUSEPORT``. ``bind_one(
    reuse_port=…)`` binds one (and raises the caller's error when it cannot); the first
    call, without ``SO_REUSEPORT``, only proves the port is free."""
    bind_one(reuse_port=False).close()
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sockets.append(bind_one(reuse_port=True))
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    return sockets


class BalancedMultiprocess(Multiprocess):
    """uvicorn's supervisor (start, restart on death, stop on SIGTERM/SIGINT), with worker
    ``i`` always serving ``sockets[i]``."""

    def __init__(self, config: Any, sockets: list[socket.socket]) -> None:
        super().__init__(config, sockets=sockets)
        self.processes_num = len(sockets)
        self._slots = list(sockets)

    @contextmanager
    def _slot(self, index: int) -> Iterator[None]:
        # The parent's methods start a worker with ``Process(config, self.sockets)`` and
        # walk ``self.processes``: narrowed to one slot, they act on that slot alone.
        everyone, shared = self.processes, self.sockets
        self.processes, self.sockets = everyone[index:index + 1], [self._slots[index]]
        try:
            yield
        finally:
            everyone[index:index + 1] = self.processes
            self.processes, self.sockets = everyone, shared

    def init_processes(self) -> None:
        for sock in self._slots:
            process = Process(self.config, [sock])
            process.start()
            self.processes.append(process)

    def keep_subprocess_alive(self) -> None:
        for index in range(len(self.processes)):
            with self._slot(index):
                super().keep_subprocess_alive()

    def restart_all(self) -> None:
        for index in range(len(self.processes)):
            with self._slot(index):
                super().restart_all()
