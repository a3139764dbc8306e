"""The relay end to end (R30): events of real requests delivered to both members' loopback receivers,
signed (Standard Webhooks v1a with the key the gateway publishes, and v1 with a secret the operator
issued), retried with backoff, a 410 disables the endpoint, a 302 is not followed, dead letters are
replayed."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import asyncpg
from integration.auth.conftest import bearer
from integration.mobility.mobility_helpers import act, approve_all, create, create_body
from litestar.testing import AsyncTestClient
from oauth_helpers import MemberClient
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from gateway.config import Settings
from gateway.webhooks import store
from gateway.webhooks.receiver import Receiver, ReceiverThread
from gateway.webhooks.standard_webhooks import InvalidWebhook, WebhookVerifier


async def _setup(client: AsyncTestClient[Any], receivers: ReceiverThread, database_url: str) -> None:
    jwks = (await client.get("/webhooks/jwks")).json()
    assert jwks["keys"]
    assert jwks["keys"][0]["crv"] == "Ed25519"
    for receiver in receivers.receivers:
        receiver.verifier = WebhookVerifier.from_jwks(jwks)
    conn = await asyncpg.connect(database_url)
    try:
        for member in ("uni-a.ac.uk", "uni-b.ac.uk"):
            await conn.execute(
                "UPDATE members SET webhook_url = $2 WHERE id = $1", member, receivers.url(member)
            )
    finally:
        await conn.close()


def _receiver(receivers: ReceiverThread, member: str) -> Receiver:
    return next(r for r in receivers.receivers if r.member == member)


async def _until(check: Callable[[], Any], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


def _settled(rows: list[asyncpg.Record]) -> bool:
    """Every delivery's outcome recorded (none still pending or in flight)."""
    return bool(rows) and all(r["state"] != "pending" for r in rows)


async def _deliveries(database_url: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetch(
            "SELECT d.*, e.type FROM webhook_deliveries d JOIN events e ON e.id = d.event_id"
            " ORDER BY e.seq, member"
        )
    finally:
        await conn.close()


async def test_every_event_reaches_both_members_signed(
    client: AsyncTestClient[Any],
    uni_a: MemberClient,
    uni_b: MemberClient,
    receivers: ReceiverThread,
    database_url: str,
) -> None:
    await _setup(client, receivers, database_url)
    home, host = await bearer(client, uni_b), await bearer(client, uni_a)
    body = create_body()
    rid = (await create(client, home, body))["id"]
    await act(client, host, rid, "review", {"registrar": "r1"}, 1)
    await act(client, host, rid, "decision", approve_all(body), 2)
    events = (await client.get("/v1/events", headers=home)).json()["items"]
    assert len(events) == 3
    for member in ("uni-a.ac.uk", "uni-b.ac.uk"):
        receiver = _receiver(receivers, member)
        await _until(lambda r=receiver: len(r.accepted) == 3)
        # The thin payload (R20): ids only; its id is the webhook-id and the id /v1/events gives.
        assert list(receiver.accepted) == [e["id"] for e in events]
        first = receiver.accepted[events[0]["id"]]
        assert set(first) == {"type", "id", "timestamp", "request_id", "version"}
        assert first["request_id"] == rid
        assert not receiver.rejected
    # A receiver holds a delivery before the relay has its answer and records it: wait for the records.
    await _until_async(_settled, lambda: _deliveries(database_url))
    rows = await _deliveries(database_url)
    assert [(r["state"], r["attempts"]) for r in rows] == [("delivered", 1)] * 6


async def test_retries_with_backoff_then_delivers(
    client: AsyncTestClient[Any], uni_b: MemberClient, receivers: ReceiverThread, database_url: str
) -> None:
    await _setup(client, receivers, database_url)
    answers = iter([503, 500, 429])
    home_receiver = _receiver(receivers, "uni-b.ac.uk")
    home_receiver.status = lambda: next(answers, 204)
    await create(client, await bearer(client, uni_b), create_body())
    await _until(lambda: len(home_receiver.accepted) == 1)
    await _until_async(_settled, lambda: _deliveries(database_url))
    rows = {r["member"]: r for r in await _deliveries(database_url)}
    assert rows["uni-b.ac.uk"]["attempts"] == 4
    assert rows["uni-b.ac.uk"]["state"] == "delivered"
    assert home_receiver.deliveries == 4  # the same webhook-id each time, processed once
    assert rows["uni-a.ac.uk"]["attempts"] == 1


async def test_gone_disables_the_endpoint_and_dead_letters_replay(
    client: AsyncTestClient[Any], uni_b: MemberClient, receivers: ReceiverThread, database_url: str
) -> None:
    await _setup(client, receivers, database_url)
    home_receiver = _receiver(receivers, "uni-b.ac.uk")
    home_receiver.status = lambda: 410
    home = await bearer(client, uni_b)
    await create(client, home, create_body())
    await _until(lambda: home_receiver.deliveries == 1)

    async def dead() -> list[store.DeadLetter]:
        conn = await asyncpg.connect(database_url)
        try:
            return await store.dead_letters(conn, member="uni-b.ac.uk", limit=10)
        finally:
            await conn.close()

    await _until_async(lambda letters: len(letters) == 1, dead)
    # Later events for the disabled endpoint are not sent; they wait as dead letters.
    await create(client, home, create_body())
    await _until_async(lambda letters: len(letters) == 2, dead)
    assert home_receiver.deliveries == 1
    assert {d.last_error for d in await dead()} == {"endpoint-disabled"}

    # The operator re-enables the endpoint and replays: both arrive, once each.
    home_receiver.status = lambda: 204
    conn = await asyncpg.connect(database_url)
    try:
        assert await store.enable_endpoint(conn, "uni-b.ac.uk")
        replayed = await store.replay(conn, event_id=None, member="uni-b.ac.uk")
    finally:
        await conn.close()
    assert len(replayed) == 2
    await _until(lambda: len(home_receiver.accepted) == 2)
    assert await dead() == []


async def _until_async(check: Callable[[Any], bool], read: Callable[[], Any], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not check(await read()):
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


async def test_redirects_are_failures_never_followed_and_4xx_is_not_retried(
    client: AsyncTestClient[Any], uni_b: MemberClient, receivers: ReceiverThread, database_url: str
) -> None:
    await _setup(client, receivers, database_url)
    target = _receiver(receivers, "redirect-target")
    home_receiver = _receiver(receivers, "uni-b.ac.uk")
    host_receiver = _receiver(receivers, "uni-a.ac.uk")
    home_receiver.status = lambda: 302
    home_receiver.location = receivers.url("redirect-target")
    host_receiver.status = lambda: 400
    await create(client, await bearer(client, uni_b), create_body())
    await _until(lambda: home_receiver.deliveries >= 3)
    rows = {r["member"]: r for r in await _deliveries(database_url)}
    assert rows["uni-b.ac.uk"]["state"] == "pending"
    assert rows["uni-b.ac.uk"]["last_error"] == "redirect"
    assert rows["uni-b.ac.uk"]["last_status"] == 302
    assert target.deliveries == 0  # the Location was never requested
    # A 4xx other than 408/410/425/429 is the receiver refusing the message: a dead letter at once.
    assert rows["uni-a.ac.uk"]["state"] == "dead"
    assert rows["uni-a.ac.uk"]["attempts"] == 1
    assert host_receiver.deliveries == 1


class ReferenceV1Receiver:
    """A member's receiver built on the Standard Webhooks reference library, which checks ``v1`` only."""

    def __init__(self, secret: str) -> None:
        self.webhook = Webhook(secret)

    def verify(self, headers: dict[str, str], body: bytes) -> str:
        try:
            self.webhook.verify(body, headers, json_parse=False)
        except WebhookVerificationError as exc:
            raise InvalidWebhook("no-valid-signature") from exc
        return {k.lower(): v for k, v in headers.items()}["webhook-id"]


def _webhooks_cli(*args: str, database_url: str, settings: Settings) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", "webhooks", *args],
        env={**os.environ, "DATABASE_URL": database_url, "GATEWAY_KEYS_DIR": str(settings.signing_keys_dir)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_a_member_issued_a_shared_secret_also_gets_v1_signatures(
    client: AsyncTestClient[Any],
    uni_b: MemberClient,
    receivers: ReceiverThread,
    database_url: str,
    settings: Settings,
) -> None:
    await _setup(client, receivers, database_url)
    issued = _webhooks_cli("secret-add", "uni-b.ac.uk", database_url=database_url, settings=settings)
    assert issued.returncode == 0, issued.stderr
    secret = json.loads(issued.stdout)["secret"]
    listed = _webhooks_cli("secret-list", "uni-b.ac.uk", database_url=database_url, settings=settings)
    assert [s["id"] for s in json.loads(listed.stdout)] == [json.loads(issued.stdout)["id"]]
    assert secret not in listed.stdout  # shown once, when issued
    unknown = _webhooks_cli("secret-add", "uni-z.ac.uk", database_url=database_url, settings=settings)
    assert unknown.returncode == 2
    assert "uni-z.ac.uk" in unknown.stderr

    home_receiver = _receiver(receivers, "uni-b.ac.uk")
    home_receiver.verifier = ReferenceV1Receiver(secret)
    host_receiver = _receiver(receivers, "uni-a.ac.uk")  # no secret issued: v1a only, as before
    await create(client, await bearer(client, uni_b), create_body())
    await _until(lambda: len(home_receiver.accepted) == 1 and len(host_receiver.accepted) == 1)
    assert not home_receiver.rejected
    assert not host_receiver.rejected

    # Retired, the secret no longer signs: the v1-only receiver refuses the next event.
    retired = _webhooks_cli(
        "secret-retire", "uni-b.ac.uk", "--keep", "0", database_url=database_url, settings=settings
    )
    assert json.loads(retired.stdout) == {"retired": [json.loads(issued.stdout)["id"]]}
    await create(client, await bearer(client, uni_b), create_body())
    await _until(lambda: home_receiver.rejected["no-valid-signature"] >= 1)
    assert len(home_receiver.accepted) == 1
