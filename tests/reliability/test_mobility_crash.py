"""R33 crash test: mobility requests are created, reviewed and decided over HTTP while the gateway process
(``consortium-gateway serve``) and the relay (``consortium-gateway relay``) are killed with SIGKILL 20
times and restarted, and the database is stopped with ``pg_ctl stop -m immediate`` 5 times and started
again. Clients retry every operation with its Idempotency-Key until it is acknowledged; while the database
is down the gateway answers 503, never 500.

At the end: 0 lost and 0 duplicated requests, decisions, events and audit entries; every audit chain intact;
every event delivered at least once to both members' receivers, which de-duplicate by webhook-id so their
effect count equals the event count (R30).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from integration.mobility.mobility_helpers import approve_all, create_body
from oauth_helpers import MemberClient, consortium_toml
from process_helpers import Component, free_port, gateway_env, ready
from reliability.own_database import OwnDatabase

from gateway.audit import verify
from gateway.members.consortium_file import parse_consortium
from gateway.members.service import sync_consortium
from gateway.webhooks.receiver import Receiver, ReceiverThread
from gateway.webhooks.standard_webhooks import WebhookVerifier

pytestmark = pytest.mark.e2e

REQUESTS = 40  # at least, x 3 operations (create, review, decide)
MAX_REQUESTS = 600  # a bound: 70 s of faults at PACE, and the test must end within 90 s
PACE = 1.0  # seconds between one client's requests while the faults go on
CLIENTS = 8
KILLS = 20
DATABASE_CRASHES = 5


class Member:
    def __init__(self, client: MemberClient, base: str) -> None:
        self.client, self.base = client, base
        self.token: str | None = None

    async def headers(self, http: httpx.AsyncClient) -> dict[str, str]:
        while self.token is None:
            with contextlib.suppress(httpx.TransportError):
                response = await http.post(f"{self.base}/oauth/token", data=self.client.token_form())
                if response.status_code == 200:
                    self.token = response.json()["access_token"]
                    break
            await asyncio.sleep(0.05)
        return {"Authorization": f"Bearer {self.token}"}


async def _until_acknowledged(
    http: httpx.AsyncClient,
    member: Member,
    path: str,
    body: dict[str, Any],
    headers: dict[str, str],
    unavailable: list[str],
) -> httpx.Response:
    """Retry with the same Idempotency-Key until the gateway answers for it (R29, R32)."""
    while True:
        try:
            response = await http.post(
                f"{member.base}{path}", json=body, headers={**await member.headers(http), **headers}
            )
        except httpx.TransportError:
            await asyncio.sleep(0.05)
            continue
        if response.status_code in (200, 201):
            return response
        # 409 "key in flight" and 503 are to be retried; anything else is a bug in the gateway.
        assert response.status_code in (409, 503), response.text
        if response.status_code == 409:
            assert response.json()["type"].endswith("idempotency-key-in-use"), response.text
        else:
            assert response.headers.get("Retry-After"), response.headers
            unavailable.append(response.json()["type"])
        await asyncio.sleep(0.05)


async def _during_outage(http: httpx.AsyncClient, member: Member) -> str:
    """The problem type of a request made while the database is down: a 503 with Retry-After."""
    response = await http.get(f"{member.base}/v1/mobility-requests", headers=await member.headers(http))
    assert response.status_code == 503, response.text
    assert response.headers.get("Retry-After"), response.headers
    return str(response.json()["type"])


class Plan:
    """The requests' numbers, handed out while the faults go on (paced, so that a fast machine does not
    finish its work before them) and until at least ``REQUESTS`` were: the load spans the faults however
    fast the machine is."""

    def __init__(self) -> None:
        self.issued = 0
        self.faults_over = False

    async def next(self) -> int | None:
        if self.issued >= REQUESTS:
            if self.faults_over or self.issued >= MAX_REQUESTS:
                return None
            await asyncio.sleep(PACE)
            if self.faults_over:
                return None
        self.issued += 1
        return self.issued - 1


async def _workload(
    home: Member, host: Member, plan: Plan, done: dict[int, str], unavailable: list[str]
) -> None:
    body = create_body()
    async with httpx.AsyncClient(timeout=5) as http:
        while (index := await plan.next()) is not None:
            keys = [f"crash-{index}-{step}" for step in ("create", "review", "decide")]
            created = await _until_acknowledged(
                http, home, "/v1/mobility-requests", body, {"Idempotency-Key": keys[0]}, unavailable
            )
            rid = created.json()["id"]
            await _until_acknowledged(
                http,
                host,
                f"/v1/mobility-requests/{rid}/review",
                {"registrar": "reg-1"},
                {"Idempotency-Key": keys[1], "If-Match": '"v1"'},
                unavailable,
            )
            decided = await _until_acknowledged(
                http,
                host,
                f"/v1/mobility-requests/{rid}/decision",
                approve_all(body),
                {"Idempotency-Key": keys[2], "If-Match": '"v2"'},
                unavailable,
            )
            assert decided.json()["state"] == "decided"
            done[index] = rid


async def test_kill_gateway_relay_and_database(own_database: OwnDatabase, tmp_path: Path) -> None:
    started = time.monotonic()
    database_url = own_database.dsn
    uni_a = MemberClient("uni-a-registry", "uni-a.ac.uk")
    uni_b = MemberClient("uni-b-registry", "uni-b.ac.uk")
    receivers = ReceiverThread(
        [Receiver(m, WebhookVerifier([])) for m in ("uni-a.ac.uk", "uni-b.ac.uk")]
    ).start()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = gateway_env(database_url, tmp_path)
    gateway = Component(
        ["serve", "--port", str(port), "--workers", "1"], {**env, "GATEWAY_RELAY_ENABLED": "false"}
    )
    relay = Component(["relay"], env)
    probe = httpx.AsyncClient(timeout=5)  # the test's own requests while the database is down
    try:
        conn = await asyncpg.connect(database_url)
        try:
            await sync_consortium(
                conn,
                parse_consortium(consortium_toml({"uni-a.ac.uk": [uni_a], "uni-b.ac.uk": [uni_b]})),
            )
            for member in ("uni-a.ac.uk", "uni-b.ac.uk"):
                await conn.execute(
                    "UPDATE members SET webhook_url = $2 WHERE id = $1", member, receivers.url(member)
                )
        finally:
            await conn.close()
        gateway.start()
        await ready(base)
        relay.start()
        async with httpx.AsyncClient() as http:
            jwks = (await http.get(f"{base}/webhooks/jwks")).json()
        for receiver in receivers.receivers:
            receiver.verifier = WebhookVerifier.from_jwks(jwks)

        home, host = Member(uni_b, base), Member(uni_a, base)
        await home.headers(probe)  # a token while the database is up
        done: dict[int, str] = {}
        unavailable: list[str] = []
        plan = Plan()
        load = asyncio.gather(*(_workload(home, host, plan, done, unavailable) for _ in range(CLIENTS)))
        rng = random.Random(33)
        kills = {"gateway": 0, "relay": 0}
        # 20 kills of a process and 5 database crashes, in a random order.
        schedule = [rng.choice(["gateway", "relay"]) for _ in range(KILLS)]
        for _ in range(DATABASE_CRASHES):
            schedule.insert(rng.randint(0, len(schedule)), "database")
        for victim in schedule:
            await asyncio.sleep(rng.randint(1, 9) / 10)  # R33: sleep $((RANDOM%9+1))/10
            if victim == "database":
                own_database.crash()
                # Asked now, the gateway says so; the clients may meet it too, if they are still at work
                # (how far they got by now depends on the machine's speed).
                unavailable.append(await _during_outage(probe, home))
                await asyncio.sleep(rng.randint(1, 5) / 10)
                own_database.start()
                continue
            kills[victim] += 1
            if victim == "gateway":
                gateway.kill()
                gateway.start()
                await ready(base)
            else:
                relay.kill()
                relay.start()
        assert not load.done(), "the clients ended their work before the faults did"
        plan.faults_over = True
        await asyncio.wait_for(load, timeout=60)
        assert min(kills.values()) > 0, kills
        assert sum(kills.values()) == KILLS
        assert own_database.crashes == DATABASE_CRASHES
        # Every outage was answered with problem details saying so, to the probe and to any client.
        assert len(unavailable) >= DATABASE_CRASHES
        assert set(unavailable) == {"urn:consortium-gateway:problem:database-unavailable"}

        conn = await asyncpg.connect(database_url)
        # Every request acknowledged, once; every change recorded once, with its audit entry and event.
        requests = plan.issued
        assert REQUESTS <= requests < MAX_REQUESTS
        assert len(done) == requests
        assert len(set(done.values())) == requests
        rows = await conn.fetch("SELECT id::text AS id, state, version FROM mobility_requests")
        assert sorted(r["id"] for r in rows) == sorted(done.values())
        assert {(r["state"], r["version"]) for r in rows} == {("decided", 3)}
        assert await conn.fetchval("SELECT count(*) FROM mobility_decisions") == requests
        assert await conn.fetchval("SELECT count(*) FROM events") == 3 * requests
        assert await conn.fetchval("SELECT count(*) FROM audit_entries") == 3 * requests
        assert await conn.fetchval("SELECT count(*) FROM idempotency_keys") == 3 * requests
        report = await verify(conn)
        assert report.ok, report
        assert report.streams == requests

        # Every event reaches both members at least once; each receiver processes each event once.
        event_ids = {str(r["id"]) for r in await conn.fetch("SELECT id FROM events")}
        deadline = time.monotonic() + 30
        while await conn.fetchval("SELECT count(*) FROM webhook_deliveries WHERE state <> 'delivered'"):
            assert time.monotonic() < deadline, "deliveries still pending"
            await asyncio.sleep(0.1)
        assert await conn.fetchval("SELECT count(*) FROM webhook_deliveries") == 2 * len(event_ids)
        await conn.close()
        for receiver in receivers.receivers:
            assert set(receiver.accepted) == event_ids
            assert receiver.deliveries >= len(event_ids)
            assert not receiver.rejected
        assert time.monotonic() - started < 90
    finally:
        await probe.aclose()
        gateway.kill()
        relay.kill()
        receivers.stop()
