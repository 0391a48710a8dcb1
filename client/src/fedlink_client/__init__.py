"""The researcher's client for a Fedlink hub: typed models, a sync :class:`Client` and an
async :class:`AsyncClient`, researcher key generation, and verified, decrypted extract
downloads. Depends on httpx, cryptography and pydantic only.

    from fedlink_client import Client, generate_key

    hub = Client()  # FEDLINK_HUB_URL, FEDLINK_TOKEN (or FEDLINK_TOKEN_FILE), FEDLINK_CA_FILE
    print(hub.me().name)

Errors: :mod:`fedlink_client.errors`. The guide: docs/client.md.
"""

__version__ = "0.1.0"

from fedlink_client._http import RetryPolicy
from fedlink_client.aio import AsyncClient
from fedlink_client.client import Client
from fedlink_client.errors import (
    AuthenticationFailed,
    Conflict,
    FedlinkClientError,
    HubFailed,
    HubRefused,
    HubUnreachable,
    IntegrityError,
    InvalidInput,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    RateLimited,
)
from fedlink_client.extracts import Downloaded, open_saved
from fedlink_client.findings import ReportFile, SavedReport
from fedlink_client.keys import generate_key, public_key_of

__all__ = [
    "AsyncClient", "AuthenticationFailed", "Client", "Conflict", "Downloaded",
    "FedlinkClientError", "HubFailed", "HubRefused", "HubUnreachable", "IntegrityError",
    "InvalidInput", "InvalidRequest", "NotFound", "PermissionDenied", "RateLimited",
    "ReportFile", "RetryPolicy", "SavedReport", "__version__", "generate_key", "open_saved",
    "public_key_of",
]
