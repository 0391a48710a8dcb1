"""Running a service under uvicorn for ``fedlink hub serve`` and ``fedlink node serve``.

The listening socket is bound here, before uvicorn starts, so a port in use (or an address
this machine does not have, or a privileged port) is one ``fedlink: error:`` line saying
what to do instead of a uvicorn log line and a bare exit status. The TLS certificate and key
are loaded once here too, so a wrong file or a key that does not match the certificate is
named before anything listens. Logging is :mod:`fedlink.jsonlog` (one JSON object per line).
"""

from __future__ import annotations

import errno
import logging
import socket
import ssl
from typing import Any

from fedlink.errors import CommandError
from fedlink.jsonlog import log_config

log = logging.getLogger("fedlink.serve")


def bind(host: str, port: int, *, what: str, reuse_port: bool = False) -> socket.socket:
    """A listening TCP socket on ``host:port``; CommandError saying what to do otherwise.
    ``reuse_port``: one of a group of sockets on the same address (:mod:`fedlink.balanced`)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP: asyncio turns Nagle off (TCP_NODELAY) only on sockets that say
    # they are TCP; with proto 0 every response on a kept-alive connection waited ~40 ms
    # for the client's delayed ACK (issue 20: an empty hub's read took ~50 ms).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise CommandError(
                f"port {port} on {host} is already in use (is another {what} running?); "
                "stop it or choose another --port"
            ) from None
        if exc.errno == errno.EACCES:
            raise CommandError(f"no permission to listen on {host}:{port}; use a port "
                               "above 1023 or grant CAP_NET_BIND_SERVICE") from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise CommandError(f"{host} is not an address of this machine; choose another "
                               "--host") from None
        raise CommandError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.set_inheritable(True)
    return sock


def check_tls(certfile: str, keyfile: str) -> None:
    """Load the pair once, so a bad file is one sentence before anything listens."""
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(certfile, keyfile)
    except (ssl.SSLError, ValueError) as exc:
        raise CommandError(
            f"TLS certificate {certfile} and key {keyfile} cannot be used together "
            f"({getattr(exc, 'reason', None) or exc}); issue a new pair with `fedlink pki issue`"
        ) from None


def run(app: Any, *, host: str, port: int, what: str, log_level: str = "info",
        certfile: str = "", keyfile: str = "", request_filter: str | None = None,
        workers: int = 1) -> None:
    """Serve ``app`` on ``host:port`` (https when a certificate is given) until stopped.

    With ``workers`` > 1, ``app`` is the import string of an app factory: uvicorn's
    supervisor spawns that many processes, each on a listening socket of its own on the
    one address (:mod:`fedlink.balanced`), restarts one that dies, and stops them all on
    SIGTERM/SIGINT."""
    import uvicorn

    if certfile:
        check_tls(certfile, keyfile)
    if workers > 1:
        from fedlink.balanced import bind_group

        # One socket per worker, so the kernel, not a race to accept, spreads connections.
        sockets = bind_group(workers, lambda **kw: bind(host, port, what=what, **kw))
    else:
        sockets = [bind(host, port, what=what)]
    try:
        config = uvicorn.Config(
            app, log_config=log_config(log_level, request_filter=request_filter),
            log_level=log_level, access_log=False, server_header=False,
            ssl_certfile=certfile or None, ssl_keyfile=keyfile or None,
            workers=workers, factory=workers > 1,
        )
        scheme = "https" if certfile else "http"
        log.info("%s listening on %s://%s:%d%s", what, scheme, host, port,
                 f" ({workers} worker processes)" if workers > 1 else "")
        if workers > 1:
            from fedlink.balanced import BalancedMultiprocess

            BalancedMultiprocess(config, sockets).run()
        else:
            uvicorn.Server(config).run(sockets=sockets)
    finally:
        for sock in sockets:
            sock.close()
