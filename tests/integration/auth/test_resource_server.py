"""The resource server: strict token validation, scopes on every route, revocation (R6, R9, R14, R15)."""

from __future__ import annotations

import asyncio
import base64
import time
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
import pytest
from integration.auth.conftest import get_token
from joserfc import jwt
from joserfc.jwk import OKPKey
from litestar import Litestar, Router, get
from litestar.testing import AsyncTestClient
from oauth_helpers import ISSUER, MemberClient, consortium_toml

from gateway.app import create_app
from gateway.auth.guard import RequireToken, UnguardedRoute, check_route_guards
from gateway.config import Settings
from gateway.members.consortium_file import parse_consortium
from gateway.members.service import sync_consortium


def _segments(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    def dec(s: str) -> dict[str, Any]:
        return msgspec.json.decode(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))

    h, p, _ = token.split(".")
    return dec(h), dec(p)


def _gateway_key(settings: Settings, kid: str) -> OKPKey:
    data = msgspec.json.decode((settings.signing_keys_dir / f"{kid}.jwk.json").read_bytes())
    return OKPKey.import_key(data)


async def _members(client: AsyncTestClient[Any], token: str | None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await client.get("/v1/members", headers=headers)


async def test_valid_token_reads_the_directory(client: AsyncTestClient[Any], uni_a: MemberClient) -> None:
    response = await _members(client, await get_token(client, uni_a))
    assert response.status_code == 200, response.text
    assert {m["id"] for m in response.json()["items"]} == {"uni-a.ac.uk", "uni-b.ac.uk"}


async def test_no_token_is_401_with_a_challenge(client: AsyncTestClient[Any]) -> None:
    response = await _members(client, None)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "urn:consortium-gateway:problem:invalid-token"


async def test_token_in_query_string_is_refused(client: AsyncTestClient[Any], uni_a: MemberClient) -> None:
    token = await get_token(client, uni_a)
    response = await client.get("/v1/members", params={"access_token": token})
    assert response.status_code == 401


async def test_missing_scope_is_403_insufficient_scope(
    client: AsyncTestClient[Any], uni_a: MemberClient
) -> None:
    token = await get_token(client, uni_a, scope="mobility:read")
    response = await _members(client, token)
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]
    assert response.json()["type"] == "urn:consortium-gateway:problem:insufficient-scope"


async def test_other_jwt_kinds_are_not_access_tokens(
    client: AsyncTestClient[Any], settings: Settings, uni_a: MemberClient
) -> None:
    """R6: every other JWT the gateway or a member can produce is refused as a bearer token."""
    token = await get_token(client, uni_a)
    header, claims = _segments(token)
    access_key = _gateway_key(settings, header["kid"])
    now = int(time.time())
    jwks = (await client.get("/oauth/client-jwks")).json()["keys"]
    assertion_kid = jwks[0]["kid"]
    cases = {
        "client assertion of a member": uni_a.assertion(),
        "access-token claims without typ": jwt.encode(
            {"alg": "Ed25519", "kid": header["kid"]},
            claims,
            access_key,
            algorithms=["Ed25519"],
            default_type=None,
        ),
        "access-token claims with typ JWT": jwt.encode(
            {"alg": "Ed25519", "kid": header["kid"], "typ": "JWT"}, claims, access_key, algorithms=["Ed25519"]
        ),
        "aud of a member's resource server": jwt.encode(
            header, {**claims, "aud": "https://registry.uni-a.ac.uk"}, access_key, algorithms=["Ed25519"]
        ),
        "another issuer": jwt.encode(
            header, {**claims, "iss": "https://other.example"}, access_key, algorithms=["Ed25519"]
        ),
        "expired": jwt.encode(
            header, {**claims, "iat": now - 900, "exp": now - 600}, access_key, algorithms=["Ed25519"]
        ),
        "sub is not the client": jwt.encode(
            header, {**claims, "sub": "someone"}, access_key, algorithms=["Ed25519"]
        ),
        "signed with a key that is not an access-token key": jwt.encode(
            {**header, "kid": assertion_kid}, claims, OKPKey.generate_key("Ed25519"), algorithms=["Ed25519"]
        ),
        "tampered payload": token.rsplit(".", 2)[0].split(".")[0]
        + "."
        + base64.urlsafe_b64encode(msgspec.json.encode({**claims, "scope": "mobility:decide"}))
        .decode()
        .rstrip("=")
        + "."
        + token.rsplit(".", 1)[1],
        "alg none": token.split(".")[0] + "." + token.split(".")[1] + ".",
        "garbage": "not-a-jwt",
    }
    for case, candidate in cases.items():
        response = await _members(client, candidate)
        assert response.status_code == 401, case
    assert (await _members(client, token)).status_code == 200  # the control


async def test_revoked_token_stops_working_within_5_seconds(
    client: AsyncTestClient[Any], uni_a: MemberClient
) -> None:
    token = await get_token(client, uni_a)
    assert (await _members(client, token)).status_code == 200  # now cached as valid
    response = await client.post("/oauth/revoke", data={**uni_a.token_form(), "token": token})
    assert response.status_code == 200
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and (await _members(client, token)).status_code != 401:
        await asyncio.sleep(0.1)
    assert (await _members(client, token)).status_code == 401


async def test_revocation_reaches_another_process_within_5_seconds(
    client: AsyncTestClient[Any], settings: Settings, telemetry: Any, uni_a: MemberClient
) -> None:
    """A second app on the same database stands for a second gateway process."""
    async with AsyncTestClient(create_app(settings, telemetry=telemetry)) as other:
        token = await get_token(client, uni_a)
        assert (await _members(other, token)).status_code == 200
        await client.post("/oauth/revoke", data={**uni_a.token_form(), "token": token})
        start = time.monotonic()
        while time.monotonic() - start < 5 and (await _members(other, token)).status_code == 200:
            await asyncio.sleep(0.1)
        assert (await _members(other, token)).status_code == 401


async def test_a_member_cannot_revoke_or_introspect_another_members_token(
    client: AsyncTestClient[Any], uni_a: MemberClient, uni_b: MemberClient
) -> None:
    """R9 and R14 with two tenants."""
    token_a = await get_token(client, uni_a)
    unknown = (
        await client.post("/oauth/introspect", data={**uni_b.token_form(), "token": "nonsense"})
    ).content
    seen_by_b = await client.post("/oauth/introspect", data={**uni_b.token_form(), "token": token_a})
    assert seen_by_b.status_code == 200
    assert seen_by_b.content == unknown == b'{"active":false}'

    assert (
        await client.post("/oauth/revoke", data={**uni_b.token_form(), "token": token_a})
    ).status_code == 200
    await asyncio.sleep(0.5)
    assert (await _members(client, token_a)).status_code == 200  # still valid

    seen_by_a = (await client.post("/oauth/introspect", data={**uni_a.token_form(), "token": token_a})).json()
    assert seen_by_a["active"] is True
    assert seen_by_a["institution"] == "uni-a.ac.uk"
    assert seen_by_a["client_id"] == "uni-a-registry"


async def test_introspection_needs_client_authentication_and_the_capability(
    client: AsyncTestClient[Any], uni_a: MemberClient, reader: MemberClient
) -> None:
    token = await get_token(client, uni_a)
    anonymous = await client.post("/oauth/introspect", data={"token": token})
    assert (anonymous.status_code, anonymous.json()["error"]) == (401, "invalid_client")
    no_capability = await client.post("/oauth/introspect", data={**reader.token_form(), "token": token})
    assert no_capability.status_code == 400
    assert no_capability.json()["error"] == "unauthorized_client"


async def test_moving_a_client_to_another_institution_revokes_its_tokens(
    client: AsyncTestClient[Any],
    database_url: str,
    uni_a: MemberClient,
    uni_b: MemberClient,
    reader: MemberClient,
) -> None:
    """R7: tokens speak for the institution they were issued for; a registry change ends them."""
    token = await get_token(client, reader)
    assert (await _members(client, token)).status_code == 200
    moved = consortium_toml({"uni-a.ac.uk": [uni_a], "uni-b.ac.uk": [uni_b, reader]})
    conn = await asyncpg.connect(database_url)
    try:
        await sync_consortium(conn, parse_consortium(moved))
    finally:
        await conn.close()
    start = time.monotonic()
    while time.monotonic() - start < 5 and (await _members(client, token)).status_code == 200:
        await asyncio.sleep(0.1)
    assert (await _members(client, token)).status_code == 401
    fresh = await get_token(client, reader)
    assert _segments(fresh)[1]["institution"] == "uni-b.ac.uk"


DOCS = ("/schema",)


def test_start_up_refuses_a_route_without_scopes(tmp_path: Path) -> None:
    @get("/v1/forgotten")
    async def forgotten() -> str:
        return "open"

    @get("/v1/declared", opt={"scopes": ["members:read"]})
    async def declared() -> str:
        return "guarded"

    with pytest.raises(UnguardedRoute, match="/v1/forgotten"):
        check_route_guards(Litestar([forgotten, declared], middleware=[RequireToken]), public_prefixes=DOCS)
    check_route_guards(Litestar([declared], middleware=[RequireToken]), public_prefixes=DOCS)


def test_start_up_refuses_a_scoped_route_outside_the_guard() -> None:
    @get("/v1/scoped", opt={"scopes": ["members:read"]})
    async def scoped() -> str:
        return "declared, but nothing checks it"

    @get("/v1/inside", opt={"scopes": ["members:read"]})
    async def inside() -> str:
        return "guarded"

    with pytest.raises(UnguardedRoute, match="/v1/scoped"):
        check_route_guards(
            Litestar([scoped, Router("/", middleware=[RequireToken], route_handlers=[inside])]),
            public_prefixes=DOCS,
        )
    check_route_guards(
        Litestar([Router("/", middleware=[RequireToken], route_handlers=[inside])]),
        public_prefixes=DOCS,
    )


def test_every_route_of_the_gateway_is_public_or_scoped_and_guarded() -> None:
    app = create_app(Settings(issuer=ISSUER))  # construction runs check_route_guards
    guarded = 0
    for route in app.routes:
        for handler in route.route_handlers:
            if handler.opt.get("public"):
                continue
            assert handler.opt.get("scopes"), route.path
            assert RequireToken in handler.resolve_middleware(), route.path
            guarded += 1
    assert guarded > 20


async def test_whoami_reports_the_tokens_institution(
    client: AsyncTestClient[Any], reader: MemberClient
) -> None:
    token = await get_token(client, reader)
    body = (await client.get("/v1/whoami", headers={"Authorization": f"Bearer {token}"})).json()
    assert body["client_id"] == "uni-a-reader"
    assert body["institution"] == "uni-a.ac.uk"
    assert body["scopes"] == ["members:read"]
