"""The OpenAPI 3.1 document: generated, complete, and honest about security and errors."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient


async def test_openapi_document_describes_every_route(client: AsyncTestClient[Any]) -> None:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200, response.text
    document = response.json()
    assert document["openapi"].startswith("3.1")
    paths = document["paths"]
    for path in (
        "/v1/members",
        "/v1/members/{member_id}",
        "/v1/conversions",
        "/v1/frameworks",
        "/oauth/token",
        "/v1/mobility-requests",
        "/v1/mobility-requests/{request_id}/decision",
        "/v1/events",
    ):
        assert path in paths, path
    # Every /v1 operation names the OAuth scopes it needs.
    for path, operations in paths.items():
        if not path.startswith("/v1"):
            continue
        for method, operation in operations.items():
            assert operation.get("security"), f"{method} {path} declares no security"
            assert operation["security"][0]["oauth2"], f"{method} {path} declares no scope"
    schemes = document["components"]["securitySchemes"]
    assert "clientCredentials" in schemes["oauth2"]["flows"]
    # Errors are documented as problem+json.
    not_found = paths["/v1/members/{member_id}"]["get"]["responses"]["404"]
    assert "application/problem+json" in not_found["content"]


async def test_docs_page_is_public(client: AsyncTestClient[Any]) -> None:
    assert (await client.get("/schema")).status_code == 200
