#!/usr/bin/env python3
"""Container health check: GET $FEDLINK_HEALTHCHECK_URL (a service's /ready), trusting the CA
bundle $FEDLINK_HEALTHCHECK_CA for https. Exit 0 on 200, 1 otherwise (Docker's contract).
Standard library only, so it works in the slim image without the fedlink venv on PATH."""

from __future__ import annotations

import os
import ssl
import sys
import urllib.error
import urllib.request


def main() -> int:
    url = os.environ.get("FEDLINK_HEALTHCHECK_URL", "http://127.0.0.1:8100/ready")
    if not url.startswith(("http://", "https://")):
        print(f"unhealthy: FEDLINK_HEALTHCHECK_URL {url!r} is not http(s)", file=sys.stderr)
        return 1
    context = None
    if url.startswith("https://"):
        context = ssl.create_default_context(cafile=os.environ.get("FEDLINK_HEALTHCHECK_CA")
                                             or None)
    try:
        with urllib.request.urlopen(url, timeout=5, context=context) as response:  # noqa: S310
            return 0 if response.status == 200 else 1
    except urllib.error.HTTPError as exc:
        print(f"unhealthy: {exc.code} {exc.read(500).decode(errors='replace')}", file=sys.stderr)
    except (urllib.error.URLError, OSError) as exc:
        print(f"unhealthy: {exc}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
