"""SQL for webhook deliveries (the outbox, R30) and dead letters. The only module of ``webhooks`` on asyncpg.

A relay claims due deliveries with ``FOR UPDATE SKIP LOCKED`` (relays never wait for each other) and leases
them: ``next_attempt_at`` moves past the request timeout, so a delivery whose relay dies is claimed again
when the lease ends (at least once; receivers de-duplicate by ``webhook-id``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import asyncpg
import msgspec

__all__ = [
    "Claimed",
    "DeadLetter",
    "claim",
    "dead_letters",
    "disable_endpoint",
    "enable_endpoint",
    "mark_dead",
    "mark_delivered",
    "purge",
    "replay",
    "reschedule",
]

CLAIM = """
WITH due AS (
    SELECT event_id, member FROM webhook_deliveries
    WHERE state = 'pending' AND next_attempt_at <= now()
    ORDER BY next_attempt_at
    LIMIT $1
    FOR UPDATE SKIP LOCKED
)
UPDATE webhook_deliveries d
SET attempts = d.attempts + 1, next_attempt_at = now() + make_interval(secs => $2)
FROM due, events e, members m
WHERE d.event_id = due.event_id AND d.member = due.member AND e.id = d.event_id AND m.id = d.member
RETURNING d.event_id, d.member, d.attempts, e.payload::text AS payload, e.occurred_at, m.webhook_url,
          (SELECT x.url FROM webhook_endpoints_disabled x WHERE x.member = d.member) AS disabled_url
"""

DELIVERED = """
UPDATE webhook_deliveries SET state = 'delivered', delivered_at = now(), last_status = $3, last_error = NULL
WHERE event_id = $1 AND member = $2 AND state = 'pending'
"""

RESCHEDULE = """
UPDATE webhook_deliveries
SET next_attempt_at = now() + make_interval(secs => $3), last_status = $4, last_error = $5
WHERE event_id = $1 AND member = $2 AND state = 'pending'
"""

DEAD = """
UPDATE webhook_deliveries SET state = 'dead', dead_at = now(), last_status = $3, last_error = $4
WHERE event_id = $1 AND member = $2 AND state = 'pending'
"""

# A 410 Gone: the endpoint is disabled for this URL, and everything still pending for it waits in the
# dead-letter list (members can still poll GET /v1/events).
DISABLE = """
WITH off AS (
    INSERT INTO webhook_endpoints_disabled (member, url, reason) VALUES ($1, $2, $3)
    ON CONFLICT (member) DO UPDATE SET url = EXCLUDED.url, reason = EXCLUDED.reason, disabled_at = now()
)
UPDATE webhook_deliveries SET state = 'dead', dead_at = now(), last_error = 'endpoint-disabled'
WHERE member = $1 AND state = 'pending'
"""

ENABLE = "DELETE FROM webhook_endpoints_disabled WHERE member = $1 RETURNING member"

DEAD_LETTERS = """
SELECT d.event_id, d.member, e.type, d.attempts, d.last_status, d.last_error, d.dead_at
FROM webhook_deliveries d JOIN events e ON e.id = d.event_id
WHERE d.state = 'dead' AND ($1::text IS NULL OR d.member = $1)
ORDER BY d.dead_at, d.event_id
LIMIT $2
"""

REPLAY = """
UPDATE webhook_deliveries
SET state = 'pending', next_attempt_at = now(), attempts = 0, dead_at = NULL, last_error = NULL
WHERE state = 'dead' AND ($1::uuid IS NULL OR event_id = $1) AND ($2::text IS NULL OR member = $2)
RETURNING event_id, member
"""

# R23 retention: idempotency keys for at least 24 h (Stripe prunes keys "at least 24 hours old"), delivered
# outbox rows after some days.
PURGE = """
WITH keys AS (
    DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(secs => $1) RETURNING 1
), sent AS (
    DELETE FROM webhook_deliveries
    WHERE state = 'delivered' AND delivered_at < now() - make_interval(secs => $2)
    RETURNING 1
)
SELECT (SELECT count(*) FROM keys) AS keys, (SELECT count(*) FROM sent) AS deliveries
"""


@dataclass(frozen=True, slots=True)
class Claimed:
    event_id: uuid.UUID
    member: str
    attempts: int
    payload: bytes
    occurred_at: dt.datetime
    url: str | None
    disabled_url: str | None


class DeadLetter(msgspec.Struct, frozen=True, kw_only=True):
    event_id: str
    member: str
    type: str
    attempts: int
    last_status: int | None
    last_error: str | None
    dead_at: dt.datetime


async def claim(conn: asyncpg.Connection, *, limit: int, lease: float) -> list[Claimed]:
    rows = await conn.fetch(CLAIM, limit, lease)
    return [
        Claimed(
            event_id=r["event_id"],
            member=r["member"],
            attempts=r["attempts"],
            payload=r["payload"].encode(),
            occurred_at=r["occurred_at"],
            url=r["webhook_url"],
            disabled_url=r["disabled_url"],
        )
        for r in rows
    ]


async def mark_delivered(conn: asyncpg.Connection, event_id: uuid.UUID, member: str, status: int) -> None:
    await conn.execute(DELIVERED, event_id, member, status)


async def reschedule(
    conn: asyncpg.Connection, event_id: uuid.UUID, member: str, delay: float, status: int | None, error: str
) -> None:
    await conn.execute(RESCHEDULE, event_id, member, delay, status, error)


async def mark_dead(
    conn: asyncpg.Connection, event_id: uuid.UUID, member: str, status: int | None, error: str
) -> None:
    await conn.execute(DEAD, event_id, member, status, error)


async def disable_endpoint(conn: asyncpg.Connection, member: str, url: str, reason: str) -> None:
    await conn.execute(DISABLE, member, url, reason)


async def enable_endpoint(conn: asyncpg.Connection, member: str) -> bool:
    return await conn.fetchval(ENABLE, member) is not None


async def dead_letters(conn: asyncpg.Connection, *, member: str | None, limit: int) -> list[DeadLetter]:
    return [
        DeadLetter(
            event_id=str(r["event_id"]),
            member=r["member"],
            type=r["type"],
            attempts=r["attempts"],
            last_status=r["last_status"],
            last_error=r["last_error"],
            dead_at=r["dead_at"],
        )
        for r in await conn.fetch(DEAD_LETTERS, member, limit)
    ]


async def replay(
    conn: asyncpg.Connection, *, event_id: uuid.UUID | None, member: str | None
) -> list[tuple[str, str]]:
    return [(str(r["event_id"]), r["member"]) for r in await conn.fetch(REPLAY, event_id, member)]


async def purge(conn: asyncpg.Connection, *, keys_after: float, delivered_after: float) -> tuple[int, int]:
    row = await conn.fetchrow(PURGE, keys_after, delivered_after)
    return row["keys"], row["deliveries"]
