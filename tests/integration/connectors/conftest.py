"""Fixtures for the OOAPI sandbox tests: an issuer key, token minting, a running sandbox, the OOAPI doc."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey
from ooapi_sandbox_support import AUDIENCE, ISSUER, OOAPI_DOC, SCOPE, SHARED, Mint
from ooapi_schema_subset import OoapiDocument

from adapters.connectors.sandbox import RunningSandbox, SandboxData, run_sandbox


@pytest.fixture(scope="session")
def ooapi_doc() -> OoapiDocument:
    if not OOAPI_DOC.is_file():
        pytest.skip("the vendored OOAPI v6 document (shared/fixtures/ooapi-v6/ooapiv6.json) is not present")
    return OoapiDocument(OOAPI_DOC)


@pytest.fixture(scope="session")
def issuer_key() -> ECKey:
    return ECKey.generate_key("P-256", parameters={"kid": "gw-at-1", "alg": "ES256"}, private=True)


@pytest.fixture(scope="session")
def mint(issuer_key: ECKey) -> Mint:
    """Build an access token; keyword arguments override claims (``None`` drops one) or the header."""

    def build(*, key: ECKey | None = None, typ: str = "at+jwt", **overrides: Any) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": "gw",
            "client_id": "gw",
            "scope": f"{SCOPE} other",
            "iat": now,
            "exp": now + 300,
            "jti": f"j{now}",
        }
        claims.update(overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        signer = key or issuer_key
        header = {"alg": "ES256", "typ": typ, "kid": signer.kid}
        return jwt.encode(header, claims, signer, algorithms=["ES256"])

    return build


@pytest.fixture
def data() -> SandboxData:
    return SandboxData.generate("uni-a", "uk-fheq", 7, learners=25, courses=12, shared=SHARED)


@pytest.fixture
async def sandbox(data: SandboxData, issuer_key: ECKey) -> AsyncIterator[RunningSandbox]:
    jwks = {"keys": [issuer_key.as_dict(private=False)]}
    async with run_sandbox(
        data, issuer=ISSUER, audience=AUDIENCE, jwks=jwks, required_scope=SCOPE
    ) as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        yield session


@pytest.fixture
def auth(mint: Mint) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint()}"}
