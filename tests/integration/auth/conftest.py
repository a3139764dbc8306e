"""Two member institutions with real keys, synced through a consortium file, and an app that trusts them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from litestar.testing import AsyncTestClient
from oauth_helpers import MemberClient, consortium_toml

from gateway.app import create_app
from gateway.config import Settings
from gateway.members.consortium_file import parse_consortium
from gateway.members.service import sync_consortium
from gateway.telemetry import Telemetry


@pytest.fixture
def uni_a() -> MemberClient:
    return MemberClient("uni-a-registry", "uni-a.ac.uk", alg="ES256", capabilities=["introspect"])


@pytest.fixture
def uni_b() -> MemberClient:
    return MemberClient("uni-b-registry", "uni-b.ac.uk", alg="Ed25519", capabilities=["introspect"])


@pytest.fixture
def reader() -> MemberClient:
    """A second client of uni-a that may only read the member directory."""
    return MemberClient("uni-a-reader", "uni-a.ac.uk", alg="ES256", scopes=["members:read"])


async def sync_text(database_url: str, text: str) -> str:
    """Sync a consortium file's text into the test's database; the text."""
    conn = await asyncpg.connect(database_url)
    try:
        await sync_consortium(conn, parse_consortium(text))
    finally:
        await conn.close()
    return text


@pytest.fixture
async def tenants(database_url: str, uni_a: MemberClient, uni_b: MemberClient, reader: MemberClient) -> str:
    members = {"uni-a.ac.uk": [uni_a, reader], "uni-b.ac.uk": [uni_b]}
    return await sync_text(database_url, consortium_toml(members))


@pytest.fixture
async def client(
    settings: Settings, telemetry: Telemetry, tenants: str
) -> AsyncIterator[AsyncTestClient[Any]]:
    async with AsyncTestClient(create_app(settings, telemetry=telemetry)) as test_client:
        yield test_client


async def get_token(client: AsyncTestClient[Any], member: MemberClient, **extra: str) -> str:
    response = await client.post("/oauth/token", data=member.token_form(**extra))
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


async def bearer(client: AsyncTestClient[Any], member: MemberClient) -> dict[str, str]:
    """The ``Authorization`` header of a fresh access token for ``member``."""
    return {"Authorization": f"Bearer {await get_token(client, member)}"}
