"""Key rotation drill (R12): publish before use, keep until the tokens expire, then drop."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import time
from pathlib import Path
from typing import Any

import asyncpg
from integration.auth.conftest import get_token
from litestar.testing import AsyncTestClient
from oauth_helpers import MemberClient

from gateway.auth.keys import rotate_keys
from gateway.config import Settings

LEAD = dt.timedelta(minutes=10)
RETIRE = dt.timedelta(seconds=360)


async def _rotate(database_url: str, keys_dir: Path, now: dt.datetime) -> Any:
    conn = await asyncpg.connect(database_url)
    try:
        return await rotate_keys(
            conn,
            keys_dir,
            purpose="access-token",
            alg="Ed25519",
            publish_lead=LEAD,
            retire_after=RETIRE,
            now=now,
        )
    finally:
        await conn.close()


async def _published(client: AsyncTestClient[Any]) -> set[str]:
    return {k["kid"] for k in (await client.get("/oauth/jwks")).json()["keys"]}


async def _wait_for(client: AsyncTestClient[Any], check: Any) -> None:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not await check():
        await asyncio.sleep(0.1)
    assert await check()


async def test_rotation_drill(
    client: AsyncTestClient[Any], settings: Settings, database_url: str, uni_a: MemberClient
) -> None:
    keys_dir = settings.signing_keys_dir
    first = (await _published(client)).pop()
    old_token = await get_token(client, uni_a)

    # Step 1: a next key is published but does not sign yet.
    now = dt.datetime.now(dt.UTC)
    report = await _rotate(database_url, keys_dir, now)
    assert report.active == first
    assert report.next is not None
    assert not report.promoted
    await _wait_for(client, lambda: _has(client, {first, report.next}))
    assert _kid(await get_token(client, uni_a)) == first

    # Step 2, after the publish lead: the next key signs; the old one stays published, its tokens valid.
    promoted = await _rotate(database_url, keys_dir, now + LEAD + dt.timedelta(seconds=1))
    assert promoted.promoted
    assert promoted.active == report.next
    assert promoted.retired == [first]
    await _wait_for(client, lambda: _signs_with(client, uni_a, report.next))
    auth = {"Authorization": f"Bearer {old_token}"}
    assert (await client.get("/v1/members", headers=auth)).status_code == 200

    # Step 3, after the retirement window: the old key is gone from the JWKS and from disk.
    dropped = await _rotate(database_url, keys_dir, now + LEAD + RETIRE + dt.timedelta(seconds=2))
    assert dropped.dropped == [first]
    assert not (keys_dir / f"{first}.jwk.json").exists()
    await _wait_for(client, lambda: _lacks(client, first))
    assert (await client.get("/v1/members", headers=auth)).status_code == 401  # its tokens no longer verify


async def _has(client: AsyncTestClient[Any], kids: set[str]) -> bool:
    return kids <= await _published(client)


async def _lacks(client: AsyncTestClient[Any], kid: str) -> bool:
    return kid not in await _published(client)


async def _signs_with(client: AsyncTestClient[Any], member: MemberClient, kid: str | None) -> bool:
    return _kid(await get_token(client, member)) == kid


def _kid(token: str) -> str:
    import base64
    import json

    head = token.split(".")[0]
    kid: str = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))["kid"]
    return kid


async def test_private_keys_are_files_only_readable_by_the_owner(
    client: AsyncTestClient[Any], settings: Settings, database_url: str
) -> None:
    files = list(settings.signing_keys_dir.glob("*.jwk.json"))
    assert len(files) == 3  # access tokens, outbound client assertions, webhooks: one key per purpose
    for path in files:
        assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    assert oct(os.stat(settings.signing_keys_dir).st_mode & 0o777) == "0o700"
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch("SELECT public_jwk::text AS jwk FROM gateway_signing_keys")
    finally:
        await conn.close()
    assert rows
    for row in rows:  # no private member of any key is in the database
        assert '"d"' not in row["jwk"]
