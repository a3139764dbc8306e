"""A database that is down when a long-running process starts: ``serve`` and ``relay`` wait for it (within
``db_start_wait``) and carry on when it is back; errors that waiting cannot mend end the wait at once."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import asyncpg
import httpx
import pytest
from process_helpers import Component, free_port, gateway_env, ready
from reliability.own_database import OwnDatabase

from gateway.config import Settings
from gateway.db.startup import until_reachable

pytestmark = pytest.mark.e2e


async def test_waits_for_a_database_that_is_starting(own_database: OwnDatabase) -> None:
    own_database.crash()
    waiting = asyncio.create_task(until_reachable(own_database.dsn, Settings(db_start_wait=30)))
    await asyncio.sleep(0.5)
    assert not waiting.done()
    await asyncio.to_thread(own_database.start)
    await asyncio.wait_for(waiting, 10)


async def test_gives_up_after_the_wait(own_database: OwnDatabase) -> None:
    own_database.crash()
    now = 0.0
    pauses: list[float] = []

    async def sleep(seconds: float) -> None:
        nonlocal now
        pauses.append(seconds)
        now += seconds

    with pytest.raises(FileNotFoundError):  # no server socket
        await until_reachable(own_database.dsn, Settings(db_start_wait=5), sleep=sleep, clock=lambda: now)
    # Doubling from 0.1 s up to 2 s, for no longer than the wait.
    assert pauses == [0.1, 0.2, 0.4, 0.8, 1.6]
    assert sum(pauses) <= 5


async def test_does_not_wait_for_what_waiting_cannot_mend(own_database: OwnDatabase) -> None:
    started = time.monotonic()
    with pytest.raises(asyncpg.InvalidCatalogNameError):
        await until_reachable(
            own_database.dsn.replace("/postgres?", "/no_such_db?", 1), Settings(db_start_wait=30)
        )
    assert time.monotonic() - started < 5


async def test_serve_and_relay_started_while_the_database_is_down(
    own_database: OwnDatabase, tmp_path: Path
) -> None:
    own_database.crash()
    port = free_port()
    env = gateway_env(own_database.dsn, tmp_path)
    serving = {**env, "GATEWAY_RELAY_ENABLED": "false"}
    gateway = Component(["serve", "--port", str(port), "--workers", "1"], serving)
    relay = Component(["relay"], env)
    try:
        gateway.start()
        relay.start()
        await asyncio.sleep(1.5)
        for process in (gateway, relay):
            assert process.proc is not None
            assert process.proc.poll() is None, "exited instead of waiting for the database"
        await asyncio.to_thread(own_database.start)
        await ready(f"http://127.0.0.1:{port}", within=20)
        async with httpx.AsyncClient() as http:
            assert (await http.get(f"http://127.0.0.1:{port}/webhooks/jwks")).status_code == 200
        assert relay.proc is not None
        assert relay.proc.poll() is None
    finally:
        gateway.stop()
        relay.stop()
