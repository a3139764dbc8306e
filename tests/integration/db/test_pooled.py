"""``pooled``: a bounded wait for a connection, then 503, and a pool left whole by the waits that gave up."""

from __future__ import annotations

import asyncio
import time

import asyncpg
import pytest

from contracts.errors import DatabaseUnavailable
from gateway.db.deps import pooled


async def _no_reset(conn: asyncpg.Connection) -> None:
    """As the gateway's pool: no session state to reset."""


async def test_a_wait_past_the_timeout_is_503_and_leaks_nothing(database_url: str) -> None:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=1, reset=_no_reset)
    try:
        async with pooled(pool, 5.0) as held:
            started = time.monotonic()
            with pytest.raises(DatabaseUnavailable) as refused:
                async with pooled(pool, 0.2):
                    pytest.fail("the only connection is held")
            waited = time.monotonic() - started
            assert 0.15 <= waited < 2.0
            assert refused.value.status == 503
            assert await held.fetchval("SELECT 1") == 1
        # The waits that timed out gave nothing back twice and took nothing away: the one connection is free.
        for _ in range(3):
            async with pooled(pool, 0.5) as conn:
                assert await conn.fetchval("SELECT 2") == 2
        assert pool.get_idle_size() == 1
    finally:
        await pool.close()


async def test_a_waiter_gets_the_connection_when_it_is_released(database_url: str) -> None:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=1, reset=_no_reset)
    try:
        release = asyncio.Event()

        async def holder() -> None:
            async with pooled(pool, 1.0):
                await release.wait()

        task = asyncio.create_task(holder())
        await asyncio.sleep(0.05)
        loop = asyncio.get_running_loop()
        loop.call_later(0.1, release.set)
        async with pooled(pool, 2.0) as conn:
            assert await conn.fetchval("SELECT 3") == 3
        await task
    finally:
        await pool.close()
