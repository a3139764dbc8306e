"""R4 under group commit: one winner per assertion id, whether repeats share a batch, a process or neither.

The test client serialises requests, so these tests race the store itself: many tasks in one event loop,
and two stores on two pools standing for two gateway processes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
from collections.abc import AsyncIterator

import asyncpg
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from contracts.errors import ServiceUnavailable
from gateway.auth.replay import ReplayStore

EXPIRES = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)


@pytest.fixture
def spans() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def provider(spans: InMemorySpanExporter) -> TracerProvider:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    return provider


@pytest.fixture
async def pools(database_url: str) -> AsyncIterator[tuple[asyncpg.Pool, asyncpg.Pool]]:
    first = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    second = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()


def _store(pool: asyncpg.Pool, provider: TracerProvider, acquire_timeout: float = 5.0) -> ReplayStore:
    return ReplayStore(pool, acquire_timeout=acquire_timeout, tracer=provider.get_tracer("test"))


async def test_fifty_concurrent_uses_of_one_id_have_one_winner_20_rounds(
    pools: tuple[asyncpg.Pool, asyncpg.Pool], provider: TracerProvider
) -> None:
    store = _store(pools[0], provider)
    for _ in range(20):
        jti = secrets.token_urlsafe(12)
        results = await asyncio.gather(*(store.consume("client-a", jti, EXPIRES) for _ in range(50)))
        assert sorted(results) == [False] * 49 + [True]


async def test_two_processes_racing_on_shared_ids_have_one_winner_each_20_rounds(
    pools: tuple[asyncpg.Pool, asyncpg.Pool], provider: TracerProvider
) -> None:
    """Both stores see every id, in opposite orders; ids are shared by two clients to vary the key order."""
    left, right = _store(pools[0], provider), _store(pools[1], provider)
    for _ in range(20):
        keys = [(client, secrets.token_urlsafe(8)) for client in ("a", "b") for _ in range(10)]
        calls = [left.consume(c, j, EXPIRES) for c, j in keys]
        calls += [right.consume(c, j, EXPIRES) for c, j in reversed(keys)]
        calls += [left.consume(c, j, EXPIRES) for c, j in keys]
        results = await asyncio.gather(*calls)
        n = len(keys)
        for index in range(n):
            wins = [results[index], results[2 * n - 1 - index], results[2 * n + index]]
            assert wins.count(True) == 1, keys[index]


async def test_concurrent_requests_share_a_flush_and_each_row_is_committed(
    pools: tuple[asyncpg.Pool, asyncpg.Pool], provider: TracerProvider, spans: InMemorySpanExporter
) -> None:
    store = _store(pools[0], provider)
    jtis = [secrets.token_urlsafe(12) for _ in range(100)]
    assert all(await asyncio.gather(*(store.consume("client-a", j, EXPIRES) for j in jtis)))

    flushes = [s for s in spans.get_finished_spans() if s.name == "oauth.replay.flush"]
    sizes = [s.attributes["db.batch.size"] for s in flushes if s.attributes]
    assert sum(sizes) == 100
    assert len(flushes) < 100  # the first flush holds one; the rest arrived while it ran

    # Durable before the answer: another connection sees every row.
    async with pools[1].acquire() as conn:
        stored = await conn.fetchval(
            "SELECT count(*) FROM oauth_assertion_jtis WHERE client_id = 'client-a' AND jti = ANY($1)", jtis
        )
    assert stored == 100
    # And a later use of any of them is a replay.
    assert not await store.consume("client-a", jtis[57], EXPIRES)


async def test_same_id_of_two_clients_is_two_assertions(
    pools: tuple[asyncpg.Pool, asyncpg.Pool], provider: TracerProvider
) -> None:
    store = _store(pools[0], provider)
    results = await asyncio.gather(store.consume("a", "same", EXPIRES), store.consume("b", "same", EXPIRES))
    assert results == [True, True]


async def test_a_database_that_cannot_be_reached_is_a_503_for_every_waiter_and_the_store_recovers(
    database_url: str, provider: TracerProvider
) -> None:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=1)
    try:
        store = _store(pool, provider, acquire_timeout=0.2)
        held = await pool.acquire()  # the only connection: the flush cannot get one
        results = await asyncio.gather(
            *(store.consume("client-a", f"j{i}", EXPIRES) for i in range(5)), return_exceptions=True
        )
        assert all(isinstance(r, ServiceUnavailable) for r in results), results
        await pool.release(held)
        # Nothing was written, so the same ids are still first uses.
        assert await store.consume("client-a", "j3", EXPIRES)
    finally:
        await pool.close()


async def test_a_caller_that_goes_away_does_not_disturb_the_others(
    pools: tuple[asyncpg.Pool, asyncpg.Pool], provider: TracerProvider
) -> None:
    store = _store(pools[0], provider)
    leaving = asyncio.create_task(store.consume("client-a", "gone", EXPIRES))
    staying = [asyncio.create_task(store.consume("client-a", f"s{i}", EXPIRES)) for i in range(3)]
    await asyncio.sleep(0)
    leaving.cancel()
    assert await asyncio.gather(*staying) == [True, True, True]
    # The leaver's id may have been spent; it is never accepted twice.
    assert [await store.consume("client-a", "gone", EXPIRES) for _ in range(2)].count(True) <= 1


async def test_shutdown_cancels_every_waiter_and_tells_none_of_them_first_use(
    pools: tuple[asyncpg.Pool, asyncpg.Pool], provider: TracerProvider
) -> None:
    store = _store(pools[0], provider)
    waiters = [asyncio.create_task(store.consume("client-a", f"w{i}", EXPIRES)) for i in range(5)]
    await asyncio.sleep(0)  # all five queued, the first flush started
    flusher = store._group._flusher
    assert flusher is not None
    flusher.cancel()
    results = await asyncio.gather(*waiters, return_exceptions=True)
    assert all(isinstance(r, asyncio.CancelledError) for r in results), results
    assert store._group._flusher is None
    # The store still works afterwards.
    assert await store.consume("client-a", "after", EXPIRES)
