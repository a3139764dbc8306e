"""OAuth on the sandbox: a valid RFC 9068 access token or a 401/403 ``Problem``, never data."""

from __future__ import annotations

import time
from typing import Any

import aiohttp
import pytest
from joserfc.jwk import ECKey
from ooapi_sandbox_support import AUDIENCE, Mint
from ooapi_schema_subset import OoapiDocument

from adapters.connectors.sandbox import RunningSandbox


async def call(
    http: aiohttp.ClientSession, sandbox: RunningSandbox, headers: dict[str, str]
) -> tuple[int, str, str | None, Any]:
    async with http.get(f"{sandbox.base_url}/persons", headers=headers) as response:
        body = await response.json(content_type=None)
        return response.status, response.content_type, response.headers.get("WWW-Authenticate"), body


async def test_valid_token_is_accepted(
    http: aiohttp.ClientSession, sandbox: RunningSandbox, mint: Mint
) -> None:
    status, _, _, body = await call(http, sandbox, {"Authorization": f"Bearer {mint()}"})
    assert status == 200
    assert body["items"]
    status, *_ = await call(http, sandbox, {"Authorization": f"Bearer {mint(aud=['x', AUDIENCE])}"})
    assert status == 200


def expired(mint: Mint) -> str:
    now = int(time.time())
    return mint(iat=now - 7200, exp=now - 3600)


@pytest.mark.parametrize(
    ("case", "status", "error"),
    [
        ("no token", 401, "invalid_request"),
        ("not bearer", 401, "invalid_request"),
        ("garbage", 401, "invalid_token"),
        ("wrong typ", 401, "invalid_token"),
        ("wrong iss", 401, "invalid_token"),
        ("wrong aud", 401, "invalid_token"),
        ("expired", 401, "invalid_token"),
        ("no exp", 401, "invalid_token"),
        ("unknown key", 401, "invalid_token"),
        ("missing scope", 403, "insufficient_scope"),
    ],
)
async def test_refused_tokens(
    case: str,
    status: int,
    error: str,
    http: aiohttp.ClientSession,
    sandbox: RunningSandbox,
    mint: Mint,
    ooapi_doc: OoapiDocument,
) -> None:
    other = ECKey.generate_key("P-256", parameters={"kid": "gw-at-1"}, private=True)
    tokens = {
        "garbage": "a.b.c",
        "wrong typ": mint(typ="JWT"),
        "wrong iss": mint(iss="https://evil.test"),
        "wrong aud": mint(aud="https://ooapi.uni-b.test"),
        "expired": expired(mint),
        "no exp": mint(exp=None),
        "unknown key": mint(key=other),
        "missing scope": mint(scope="other things"),
    }
    headers = {}
    if case == "not bearer":
        headers["Authorization"] = "Basic Z3c6c2VjcmV0"
    elif case in tokens:
        headers["Authorization"] = f"Bearer {tokens[case]}"
    got, ctype, challenge, body = await call(http, sandbox, headers)
    assert (got, ctype) == (status, "application/problem+json")
    assert challenge == f'Bearer error="{error}"'
    assert body["status"] == status
    errors = ooapi_doc.errors(body, ooapi_doc.response_schema("/persons", str(status)))
    assert errors == []
    assert "items" not in body


async def test_refusals_precede_faults(http: aiohttp.ClientSession, sandbox: RunningSandbox) -> None:
    """An unauthenticated caller learns nothing, not even that the member is faulty."""
    sandbox.faults.set("error")
    status, *_ = await call(http, sandbox, {})
    assert status == 401
