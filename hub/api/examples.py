"""Examples in the OpenAPI document: a complete data sharing agreement.

The agreement is ``sample_agreement.json`` beside this module, the same file as
docs/sample-agreement.json (a test keeps them equal and has the hub accept it, so the
example in ``/docs`` can never stop being valid).
"""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any, Final

#: A complete, valid agreement (every field, optional ones included).
SAMPLE_AGREEMENT: Final[dict[str, Any]] = json.loads(
    (files("hub.api") / "sample_agreement.json").read_text(encoding="utf-8"))

#: ``openapi_examples`` of ``POST /v1/requests`` (Swagger UI's "Try it out" starts from it).
AGREEMENT_EXAMPLES: Final = {
    "complete": {
        "summary": "A complete agreement (docs/sample-agreement.json)",
        "description": "Two agencies (K12 and HE): the agencies, variables and years must "
                       "be in your hub's catalog (`GET /v1/catalog`).",
        "value": SAMPLE_AGREEMENT,
    },
}
