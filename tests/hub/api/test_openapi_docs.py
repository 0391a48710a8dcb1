"""The API documentation pages work with no internet (issue 19): ``/docs`` (Swagger UI)
and ``/redoc`` (ReDoc) load every script and stylesheet from the hub itself, under a
Content-Security-Policy that admits nothing else; the OpenAPI document describes every
operation, its typed answers, its errors and the bearer scheme; the sample agreement in
docs/ is the document's example and the hub accepts it."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from hub.api.docs import CONTENT_SECURITY_POLICY
from hub.api.examples import SAMPLE_AGREEMENT
from hub.api.schemas_public import PublicProjects

SAMPLE = Path(__file__).resolve().parents[3] / "docs" / "sample-agreement.json"


class _Assets(HTMLParser):
    """Every URL a page loads: scripts, stylesheets, icons, ReDoc's spec."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script":
            if values.get("src"):
                self.urls.append(values["src"] or "")
            else:
                self.inline_scripts += 1
        elif tag == "link" and values.get("href"):
            self.urls.append(values["href"] or "")
        elif tag == "redoc" and values.get("spec-url"):
            self.urls.append(values["spec-url"] or "")
        for name in ("src", "href"):
            if tag not in ("script", "link") and values.get(name):
                self.urls.append(values[name] or "")


@pytest.mark.parametrize("page, needs", [
    ("/docs", {"/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css",
               "/static/api-docs.js"}),
    ("/redoc", {"/docs/assets/redoc.standalone.js", "/openapi.json"}),
])
def test_docs_pages_load_everything_from_the_hub_itself(module_hub: Any, page: str,
                                                        needs: set[str]) -> None:
    response = module_hub.client.get(page)
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self';" in CONTENT_SECURITY_POLICY
    parser = _Assets()
    parser.feed(response.text)
    assert parser.inline_scripts == 0  # the policy would block them
    assert needs <= set(parser.urls), parser.urls
    for url in parser.urls:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc and url.startswith("/"), url
        asset = module_hub.client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 100, url
    # Nothing on the pages names another host (a CDN, Google Fonts).
    assert "http://" not in response.text and "https://" not in response.text


def test_docs_assets_are_a_fixed_list(module_hub: Any) -> None:
    for name in ("../docs.py", "..%2Fdocs.py", "favicon.png", "swagger-ui.js"):
        response = module_hub.client.get(f"/docs/assets/{name}")
        assert response.status_code == 404, name
        assert response.json()["error"] == "not_found"
    script = module_hub.client.get("/docs/assets/swagger-ui-bundle.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert b"SwaggerUIBundle" in script.content


def _document(module_hub: Any) -> dict[str, Any]:
    return dict(module_hub.client.get("/openapi.json").json())


def test_every_operation_is_described_and_its_answer_typed(module_hub: Any) -> None:
    document = _document(module_hub)
    # Answers that are files, pages or exports, not JSON objects.
    not_json = {"/v1/requests/{request_id}/runs/{run_id}/report.html",
                "/v1/extracts/{extract_id}/download", "/v1/public/outputs/{output_id}",
                "/v1/audit/events", "/v1/findings/{report_id}/file",
                "/v1/public/findings/{report_id}"}
    untyped = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert operation.get("summary"), (method, path)
            assert operation.get("description"), (method, path)
            for status, response in operation["responses"].items():
                if not status.startswith("2") or path in not_json:
                    continue
                schema = response["content"]["application/json"]["schema"]
                if "$ref" not in json.dumps(schema):
                    untyped.append((method, path))
    assert untyped == []


def test_errors_auth_and_schemas_are_documented(module_hub: Any) -> None:
    document = _document(module_hub)
    schemes = document["components"]["securitySchemes"]
    assert schemes == {"bearer": {"type": "http", "scheme": "bearer",
                                  "bearerFormat": "opaque API token",
                                  "description": schemes["bearer"]["description"]}}
    me = document["paths"]["/v1/me"]["get"]
    assert me["security"] == [{"bearer": []}]
    assert not any(p["name"].lower() == "authorization" for p in me.get("parameters", []))
    assert {"401", "403", "429", "413", "503"} <= set(me["responses"])
    assert "security" not in document["paths"]["/v1/public/catalog"]["get"]
    create = document["paths"]["/v1/requests"]["post"]
    assert {"400", "401", "403", "409", "422"} <= set(create["responses"])
    # Field descriptions and examples on the request and response schemas.
    schemas = document["components"]["schemas"]
    agreement = schemas["DataSharingAgreement"]
    assert "term_end" in agreement["description"] and "irb" in agreement["description"]
    described = [name for name, field in agreement["properties"].items()
                 if field.get("description") or "$ref" in json.dumps(field)]
    assert set(described) == set(agreement["properties"])
    assert schemas["ExtractView"]["additionalProperties"] is False
    assert schemas["UserView"]["properties"]["status"]["description"]


def test_the_sample_agreement_is_the_documented_example(module_hub: Any) -> None:
    assert json.loads(SAMPLE.read_text(encoding="utf-8")) == SAMPLE_AGREEMENT
    body = _document(module_hub)["paths"]["/v1/requests"]["post"]["requestBody"]
    example = body["content"]["application/json"]["examples"]["complete"]["value"]
    assert example == SAMPLE_AGREEMENT


def test_the_hub_accepts_the_sample_agreement(make_hub: Any) -> None:
    hub = make_hub()
    # The sample's agencies with the variables and years it asks for.
    catalog = {
        "K12": [{"name": name, "type": "integer", "years": [2017, 2018, 2019],
                 "classification": "confidential"}
                for name in ("grade", "test_score", "school")],
        "HE": [{"name": name, "type": "integer", "years": [2022, 2023, 2024, 2025],
                "classification": "internal"} for name in ("enrolled", "credits")],
    }
    for code, variables in catalog.items():
        hub.enroll(code, variables)
    _, researcher = hub.user("researcher", email="ada@uni.example")
    created = hub.client.post("/v1/requests", json=SAMPLE_AGREEMENT,
                              headers=hub.auth(researcher))
    assert created.status_code == 201, created.text
    assert created.json()["agreement"]["title"] == SAMPLE_AGREEMENT["title"]
    submitted = hub.client.post(f"/v1/requests/{created.json()['id']}/submit",
                                headers=hub.auth(researcher))
    assert submitted.status_code == 200, submitted.text


def test_public_projects_page_matches_its_documented_model(module_hub: Any) -> None:
    # Documented without response validation (served from the cache on the event loop).
    response = module_hub.client.get("/v1/public/projects?limit=5")
    assert response.status_code == 200
    PublicProjects.model_validate(response.json())


def test_every_schema_property_is_described(module_hub: Any) -> None:
    # Issue 19: a researcher, steward or auditor reading /docs learns what every field
    # means. A field added without a description (or one that only repeats its name)
    # fails here, naming the schema and the field.
    schemas = _document(module_hub)["components"]["schemas"]
    undescribed = []
    for schema_name, schema in schemas.items():
        for name, field in schema.get("properties", {}).items():
            text = str(field.get("description") or "").strip()
            if not text or text.lower().rstrip(".") == name.replace("_", " ").lower():
                undescribed.append(f"{schema_name}.{name}")
    assert undescribed == []
    # Beside a $ref too (OpenAPI 3.1 allows it): the agreement's nested parts.
    agreement = schemas["DataSharingAgreement"]["properties"]
    assert "$ref" in json.dumps(agreement["irb"]) and agreement["irb"]["description"]
