"""Decided requests close by themselves once the appeal window has ended: the gateway takes the host's
``close``, with its audit entry and event, exactly once however many processes look."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from integration.auth.conftest import bearer
from litestar.testing import AsyncTestClient
from mobility_helpers import HOST, PSEUDONYM, act, approve_all, create, create_body
from oauth_helpers import MemberClient

from gateway.audit import verify
from gateway.background import in_background
from gateway.mobility.closing import Closer
from gateway.mobility.service import SYSTEM_CLIENT, close_expired
from gateway.mobility.workflow import APPEAL_WINDOW


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(database_url, min_size=2, max_size=4)
    yield pool
    await pool.close()


async def decided(client: AsyncTestClient[Any], home: dict[str, str], host: dict[str, str]) -> dict[str, Any]:
    body = create_body(1, learner=PSEUDONYM)
    rid = (await create(client, home, body))["id"]
    assert (await act(client, host, rid, "review", {"registrar": "reg-1"}, 1)).status_code == 200
    answer = await act(client, host, rid, "decision", approve_all(body), 2)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def window_end(request: dict[str, Any]) -> dt.datetime:
    return dt.datetime.fromisoformat(request["appeal_until"])


async def all_expired(
    client: AsyncTestClient[Any], uni_a: MemberClient, uni_b: MemberClient, n: int
) -> dt.datetime:
    """``n`` decided requests; a moment after the last of their appeal windows has ended."""
    home, host = await bearer(client, uni_b), await bearer(client, uni_a)
    requests = [await decided(client, home, host) for _ in range(n)]
    return max(window_end(r) for r in requests) + dt.timedelta(seconds=1)


async def test_a_decision_closes_once_its_appeal_window_has_ended(
    client: AsyncTestClient[Any], uni_a: MemberClient, uni_b: MemberClient, pool: asyncpg.Pool
) -> None:
    home, host = await bearer(client, uni_b), await bearer(client, uni_a)
    request = await decided(client, home, host)
    rid, ends = request["id"], window_end(request)
    assert ends - dt.datetime.fromisoformat(request["updated_at"]) == APPEAL_WINDOW

    async with pool.acquire() as conn:
        assert await close_expired(conn, limit=10, now=ends) == 0  # the last day of the window is still open
        assert await close_expired(conn, limit=10, now=ends + dt.timedelta(seconds=1)) == 1
        assert await close_expired(conn, limit=10, now=ends + dt.timedelta(days=1)) == 0  # once only

    fetched = await client.get(f"/v1/mobility-requests/{rid}", headers=home)
    assert fetched.headers["etag"] == '"v4"'
    closed = fetched.json()
    assert closed["state"] == "closed"
    assert closed["outcome"] == "approved"  # closing keeps the decision
    last = closed["history"][-1]
    assert (last["version"], last["action"], last["state"]) == (4, "close", "closed")
    assert last["by"] == {"institution": HOST, "client_id": SYSTEM_CLIENT}  # no registrar: nobody pretended
    assert "appeal window" in last["note"]
    # Nothing is left to do: an appeal now is refused as any illegal transition is.
    late = await act(client, home, rid, "appeal", {"registrar": "adm-1", "note": "too late"}, 4)
    assert late.status_code == 409

    async with pool.acquire() as conn:
        entry = await conn.fetchrow(
            "SELECT action, actor_institution, actor_client, actor_sub, outcome FROM audit_entries"
            " WHERE stream = $1 ORDER BY seq DESC LIMIT 1",
            f"mobility:{rid}",
        )
        assert dict(entry) == {
            "action": "mobility.close",
            "actor_institution": HOST,
            "actor_client": SYSTEM_CLIENT,
            "actor_sub": None,
            "outcome": "closed",
        }
        report = await verify(conn, f"mobility:{rid}")
        assert report.ok, report
        assert report.entries == 4
    for party in (home, host):  # both parties hear of it
        events = (await client.get("/v1/events", headers=party)).json()["items"]
        assert [(e["type"], e["version"]) for e in events if e["request_id"] == rid][-1] == (
            "mobility_request.closed",
            4,
        )


async def test_only_decisions_past_their_window_close(
    client: AsyncTestClient[Any], uni_a: MemberClient, uni_b: MemberClient, pool: asyncpg.Pool
) -> None:
    home, host = await bearer(client, uni_b), await bearer(client, uni_a)
    first = await decided(client, home, host)
    later = await decided(client, home, host)
    appealed = await decided(client, home, host)
    note = {"registrar": "adm-1", "note": "please look again"}
    assert (await act(client, home, appealed["id"], "appeal", note, 3)).status_code == 200
    open_request = await create(client, home, create_body(1, learner=PSEUDONYM))

    async with pool.acquire() as conn:
        # Between the first window's end and the second's: only the first closes.
        assert await close_expired(conn, limit=10, now=window_end(first) + dt.timedelta(milliseconds=1)) == 1
        far = window_end(later) + dt.timedelta(days=365)
        assert await close_expired(conn, limit=10, now=far) == 1  # the second; never the appealed or open one
        states = dict(await conn.fetch("SELECT id::text, state FROM mobility_requests"))
    assert states == {
        first["id"]: "closed",
        later["id"]: "closed",
        appealed["id"]: "appealed",
        open_request["id"]: "submitted",
    }


async def test_processes_closing_together_close_each_request_once(
    client: AsyncTestClient[Any], uni_a: MemberClient, uni_b: MemberClient, pool: asyncpg.Pool
) -> None:
    after = await all_expired(client, uni_a, uni_b, 3)

    async def one_process() -> int:
        async with pool.acquire() as conn:
            return await close_expired(conn, limit=10, now=after)

    assert sum(await asyncio.gather(one_process(), one_process(), one_process())) == 3
    async with pool.acquire() as conn:
        closes = await conn.fetchval("SELECT count(*) FROM audit_entries WHERE action = 'mobility.close'")
        events = await conn.fetchval("SELECT count(*) FROM events WHERE type = 'mobility_request.closed'")
    assert (closes, events) == (3, 3)


async def test_the_closer_works_through_a_backlog_in_batches(
    client: AsyncTestClient[Any], uni_a: MemberClient, uni_b: MemberClient, pool: asyncpg.Pool
) -> None:
    after = await all_expired(client, uni_a, uni_b, 5)
    # A long interval: only "a full batch means more are due" can close all five in time.
    closer = Closer(pool, interval=3600, batch=2, clock=lambda: after)
    async with in_background(closer.run(), "mobility-closer"):
        async with asyncio.timeout(10):
            while await pool.fetchval("SELECT count(*) FROM mobility_requests WHERE state = 'closed'") < 5:
                await asyncio.sleep(0.05)
    assert await pool.fetchval("SELECT count(*) FROM audit_entries WHERE action = 'mobility.close'") == 5
