"""The hub's HTTP client towards agency nodes, for the linkage worker.

One :class:`httpx.Client` serves every node (connections are pooled per host). It verifies
each node's certificate against ``ca_file`` (the federation's private CA, ``fedlink pki``)
or, when that is empty, the system trust store; timeouts allow a match response to stream
for minutes but a silent node to be noticed. :func:`node_url` refuses to send a signed
request to a plain-http node off loopback unless ``allow_insecure_http`` is set (a demo):
registration accepts any URL, so an agency can be registered before its certificate exists,
but nothing is *sent* in clear.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

from hub.client import trust
from hub.errors import ConfigError
from hub.settings import HubSettings

#: connect: a node that does not accept within 10 s is down; read: the gap between two
#: chunks of a streamed Arrow response (large agencies compute batches between writes).
NODE_TIMEOUT = httpx.Timeout(30.0, connect=10.0, read=300.0)
_LOOPBACK = ("127.0.0.1", "::1", "localhost")


def node_url(settings: HubSettings, url: str) -> str:
    """``url`` (a node's base URL) without a trailing slash, if the hub may talk to it."""
    parsed = urlsplit(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ConfigError(f"node URL {url!r} is not an http(s) URL")
    if parsed.scheme == "http" and parsed.hostname not in _LOOPBACK \
            and not settings.allow_insecure_http:
        raise ConfigError(
            f"node URL {url} is plain http: match and extract requests would cross the "
            "network in clear; re-register the agency with an https:// URL "
            "(allow_insecure_http only for a demo)"
        )
    return url.rstrip("/")


def make_node_http_client(settings: HubSettings, *,
                          transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """An httpx client that trusts the federation CA (``settings.ca_file``)."""
    return httpx.Client(
        verify=trust(settings.ca_file or None),
        timeout=NODE_TIMEOUT,
        transport=transport,
        headers={"User-Agent": "fedlink-hub"},
        follow_redirects=False,
    )
