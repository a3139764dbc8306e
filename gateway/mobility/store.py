"""SQL for mobility requests. The only module of ``mobility`` on asyncpg.

Each write is one statement (W6: one round trip): the request change, its items or decisions, its audit
entry (``audit_append``, R22), its event and webhook deliveries (the outbox, R30) and the idempotency record
(R29) commit together or not at all. A write is conditional:

- ``pg_try_advisory_xact_lock`` on (client, key): a second request with the same key while the first is
  still running finds the lock taken and writes nothing (409, "in flight");
- an idempotency record already there (same key, committed) means nothing is written and it is returned
  (replay or 422); one committed after this statement's snapshot makes the insert fail with a unique
  violation, which rolls the whole statement back (``KeyTaken``);
- a creation writes only if the recognition revision is the one its evaluation used; an action only if the
  request still has the version and a state its transition allows from (R31).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import msgspec

from gateway.audit import APPEND_ARITY, AuditEntry, append_sql, first_entry_sql
from gateway.mobility.models import MobilityEvent, MobilityRequestSummary

__all__ = [
    "ActionWrite",
    "CreateWrite",
    "KeyTaken",
    "LoadedRequest",
    "Prior",
    "WriteResult",
    "apply_action",
    "document",
    "expired_decisions",
    "insert_request",
    "insert_requests",
    "list_events",
    "list_requests",
    "load_for_action",
    "prior_response",
    "state_of",
]

_ACTION_FIXED = 22

# One creation's fields, one row of a JSON document: a batch is one statement (group commit, see
# ``gateway.mobility.creations``), and a lone creation is a batch of one. A document, not an array per
# field: asyncpg checks every array element against abstract base classes before encoding it, which was
# a fifth of a creation's instructions (1,660k before, 1,330k after; ``bench.instructions``).
_CREATE_COLUMNS = (
    ("id", "uuid"),
    ("learner_ref", "text"),
    ("home_member", "text"),
    ("host_member", "text"),
    ("purpose", "text"),
    ("document", "text"),
    ("created_at", "timestamptz"),
    ("due_at", "timestamptz"),
    ("client_id", "text"),
    ("items", "text"),
    ("key", "text"),
    ("fingerprint", "bytea"),
    ("headers", "text"),
    ("event_id", "uuid"),
    ("event_type", "text"),
    ("event_payload", "text"),
    ("revision", "bigint"),
)
_AUDIT_COLUMNS = (
    ("a_stream", "text"),
    ("a_action", "text"),
    ("a_inst", "text"),
    ("a_client", "text"),
    ("a_sub", "text"),
    ("a_learner", "uuid"),
    ("a_resource", "text"),
    ("a_purpose", "text"),
    ("a_outcome", "text"),
    ("a_trace", "text"),
    ("a_details", "text"),
)
_ALL_COLUMNS = _CREATE_COLUMNS + _AUDIT_COLUMNS
assert len(_AUDIT_COLUMNS) == APPEND_ARITY
_RECORD = ", ".join(f"{name} {kind}" for name, kind in _ALL_COLUMNS)
_NAMES = ", ".join(name for name, _ in _ALL_COLUMNS)
_KEYS = tuple(name for name, _ in _ALL_COLUMNS)

# The f-strings below only splice in fixed SQL: column names, numbered parameters, append_sql(n) and
# first_entry_sql(...). Each row of ``input`` is one creation; each is decided on its own (its key's lock,
# its stored response, its revision), and only the rows in ``go`` are written. The answer has one row per
# creation, in order.
INSERT_REQUESTS = f"""
WITH input AS (
    SELECT * FROM ROWS FROM (json_to_recordset($1::json) AS ({_RECORD})) WITH ORDINALITY AS i({_NAMES}, ord)
), guard AS (
    SELECT i.ord, pg_try_advisory_xact_lock(hashtextextended(i.client_id || ' ' || i.key, 0)) AS free,
           i.revision = (SELECT revision FROM recognition_revision) AS current
    FROM input i
), prior AS (
    -- A lookup by the primary key for each creation, whatever the table's size. As a plain join, a generic
    -- plan made while the table was small hashed a sequential scan of it, and kept doing so as it grew.
    SELECT i.ord, p.*
    FROM input i,
         LATERAL (SELECT k.fingerprint, k.status, k.headers::text AS headers, k.body FROM idempotency_keys k
                  WHERE k.client_id = i.client_id AND k.key = i.key LIMIT 1) AS p
), go AS (
    SELECT i.* FROM input i JOIN guard g ON g.ord = i.ord
    WHERE g.free AND g.current AND NOT EXISTS (SELECT 1 FROM prior p WHERE p.ord = i.ord)
), req AS (
    INSERT INTO mobility_requests (id, learner_ref, home_member, host_member, state, version, purpose, due_at,
                                   created_by, created_at, updated_at, document)
    SELECT id, learner_ref, home_member, host_member, 'submitted', 1, purpose, due_at, client_id,
           created_at, created_at, document::json
    FROM go
    RETURNING id
), items AS (
    INSERT INTO mobility_items (request_id, position, credential_id, evaluated)
    SELECT go.id, x.position, x.credential_id, x.evaluated
    FROM go, jsonb_to_recordset(go.items::jsonb) AS x(position smallint, credential_id text, evaluated text)
), idem AS (
    INSERT INTO idempotency_keys (client_id, key, fingerprint, status, headers, body, created_at)
    SELECT client_id, key, fingerprint, 201, headers::jsonb, document, created_at FROM go
), ev AS (
    INSERT INTO events (id, type, occurred_at, members, payload)
    SELECT event_id, event_type, created_at, ARRAY[home_member, host_member], event_payload::jsonb FROM go
    RETURNING id, members
), deliveries AS (
    INSERT INTO webhook_deliveries (event_id, member)
    SELECT ev.id, m.id FROM ev JOIN members m ON m.id = ANY(ev.members) AND m.webhook_url IS NOT NULL
), {first_entry_sql([f"go.{name}" for name, _ in _AUDIT_COLUMNS], "go.created_at", "go")}
SELECT g.free, g.current, i.id IN (SELECT id FROM req) AS written,
       p.fingerprint, p.status, p.headers, p.body
FROM input i JOIN guard g ON g.ord = i.ord LEFT JOIN prior p ON p.ord = i.ord
ORDER BY i.ord
"""  # noqa: S608

APPLY_ACTION = f"""
WITH guard AS (
    SELECT CASE WHEN $15::text IS NULL THEN true
                ELSE pg_try_advisory_xact_lock(hashtextextended($14 || ' ' || $15, 0)) END AS free
), prior AS (
    SELECT fingerprint, status, headers::text AS headers, body FROM idempotency_keys
    WHERE $15::text IS NOT NULL AND client_id = $14 AND key = $15
), req AS (
    UPDATE mobility_requests
    SET state = $4, version = version + 1, document = $5::json, updated_at = $6, assigned_to = $7,
        due_at = $8, outcome = $9, round = $10, appeal_until = $11
    WHERE id = $1 AND version = $2 AND state = ANY($3::text[])
      AND (home_member = $13 OR host_member = $13)
      AND (SELECT free FROM guard) AND NOT EXISTS (SELECT 1 FROM prior)
    RETURNING id, home_member, host_member
), decisions AS (
    INSERT INTO mobility_decisions (request_id, round, position, decision, reason_code, credits, decided_by,
                                    decided_at)
    SELECT req.id, $10, x.position, x.decision, x.reason_code, x.credits, x.decided_by, $6
    FROM req, jsonb_to_recordset($12::jsonb)
         AS x(position smallint, decision text, reason_code text, credits numeric, decided_by text)
), idem AS (
    INSERT INTO idempotency_keys (client_id, key, fingerprint, status, headers, body, created_at)
    SELECT $14, $15, $16, $17, $18::jsonb, $19, $6 FROM req WHERE $15::text IS NOT NULL
), ev AS (
    INSERT INTO events (id, type, occurred_at, members, payload)
    SELECT $20, $21, $6, ARRAY[req.home_member, req.host_member], $22::jsonb FROM req
    RETURNING id, members
), deliveries AS (
    INSERT INTO webhook_deliveries (event_id, member)
    SELECT ev.id, m.id FROM ev JOIN members m ON m.id = ANY(ev.members) AND m.webhook_url IS NOT NULL
), audit AS (
    SELECT {append_sql(_ACTION_FIXED + 1)} AS seq FROM req
)
SELECT g.free, (SELECT count(*) FROM audit) AS written, p.fingerprint, p.status, p.headers, p.body
FROM guard g LEFT JOIN prior p ON true
"""  # noqa: S608

LOAD_FOR_ACTION = """
SELECT r.version, r.state, r.document::text AS document,
       p.fingerprint, p.status, p.headers::text AS headers, p.body
FROM (SELECT 1) AS one
LEFT JOIN mobility_requests r ON r.id = $1 AND (r.home_member = $2 OR r.host_member = $2)
LEFT JOIN idempotency_keys p ON $4::text IS NOT NULL AND p.client_id = $3 AND p.key = $4
"""

PRIOR = """
SELECT fingerprint, status, headers::text AS headers, body FROM idempotency_keys
WHERE client_id = $1 AND key = $2
"""

STATE_OF = """
SELECT version, state FROM mobility_requests WHERE id = $1 AND (home_member = $2 OR host_member = $2)
"""

DOCUMENT = """
SELECT version, document::text AS document FROM mobility_requests
WHERE id = $1 AND (home_member = $2 OR host_member = $2)
"""

# Decided requests whose appeal window has ended, oldest first (the partial index of migration 0010).
EXPIRED_DECISIONS = """
SELECT document::text AS document FROM mobility_requests
WHERE state = 'decided' AND appeal_until < $1
ORDER BY appeal_until
LIMIT $2
"""

# The queue: only requests the caller is party to (R14), in id order (ids are time-ordered, so this is
# arrival order), filtered by state, assignee, due date and the caller's role.
LIST_REQUESTS = """
SELECT r.id, r.version, r.state, r.home_member, r.host_member, r.round, r.created_at, r.updated_at,
       r.outcome, r.assigned_to, r.due_at, r.appeal_until,
       (SELECT count(*) FROM mobility_items i WHERE i.request_id = r.id) AS items
FROM mobility_requests r
WHERE (($6::text IS NULL AND (r.home_member = $1 OR r.host_member = $1))
       OR ($6 = 'host' AND r.host_member = $1) OR ($6 = 'home' AND r.home_member = $1))
  AND ($2::uuid IS NULL OR r.id > $2)
  AND ($3::text[] IS NULL OR r.state = ANY($3))
  AND ($4::text IS NULL OR r.assigned_to = $4)
  AND ($5::timestamptz IS NULL OR r.due_at < $5)
ORDER BY r.id
LIMIT $7
"""

# Rows of transactions still in progress are held back (txid >= the snapshot's xmin): their seq may be
# lower than that of rows already committed, and a poller that moved past them would never see them.
LIST_EVENTS = """
SELECT seq, id, type, occurred_at, payload->>'request_id' AS request_id,
       (payload->>'version')::int AS version
FROM events
WHERE seq > $2 AND members @> ARRAY[$1]::text[]
  AND txid < pg_snapshot_xmin(pg_current_snapshot())
ORDER BY seq
LIMIT $3
"""


class KeyTaken(Exception):
    """The idempotency key was committed by another request after this statement's snapshot."""


@dataclass(frozen=True, slots=True)
class Prior:
    """A stored response for an idempotency key."""

    fingerprint: bytes
    status: int
    headers: str
    body: str


@dataclass(frozen=True, slots=True)
class WriteResult:
    free: bool  # the idempotency key was not in flight
    written: bool
    prior: Prior | None
    current: bool = True  # (creations) the recognition revision was the one evaluated against


@dataclass(frozen=True, slots=True)
class LoadedRequest:
    version: int | None
    state: str | None
    document: str | None
    prior: Prior | None


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status: int
    headers_json: str
    body: str


@dataclass(frozen=True, slots=True)
class Event:
    id: uuid.UUID
    type: str
    payload: str


@dataclass(frozen=True, slots=True)
class CreateWrite:
    id: uuid.UUID
    learner_ref: str
    home_member: str
    host_member: str
    purpose: str
    document: str
    created_at: dt.datetime
    due_at: dt.datetime | None
    client_id: str
    items_json: str
    key: str
    fingerprint: bytes
    # The response stored with the idempotency key: 201, these headers, and the document as its body (a
    # creation answers with the request it created, so the document is sent once and stored twice).
    response_headers_json: str
    event: Event
    revision: int
    audit: AuditEntry


@dataclass(frozen=True, slots=True)
class ActionWrite:
    id: uuid.UUID
    expected_version: int
    allowed_from: tuple[str, ...]
    state: str
    document: str
    now: dt.datetime
    assigned_to: str | None
    due_at: dt.datetime | None
    outcome: str | None
    round: int
    appeal_until: dt.datetime | None
    decisions_json: str
    institution: str
    client_id: str
    key: str | None
    fingerprint: bytes
    response: StoredResponse
    event: Event
    audit: AuditEntry


def _prior(row: asyncpg.Record) -> Prior | None:
    if row["fingerprint"] is None:
        return None
    return Prior(
        fingerprint=bytes(row["fingerprint"]), status=row["status"], headers=row["headers"], body=row["body"]
    )


async def _write(conn: asyncpg.Connection, statement: str, args: list[Any]) -> list[asyncpg.Record]:
    """Run one conditional write; an idempotency key committed meanwhile by another writer is ``KeyTaken``."""
    try:
        rows: list[asyncpg.Record] = await conn.fetch(statement, *args)
    except asyncpg.UniqueViolationError as exc:
        if exc.constraint_name == "idempotency_keys_pkey":
            raise KeyTaken from exc
        raise
    return rows


def _create_row(w: CreateWrite) -> dict[str, Any]:
    return dict(zip(_KEYS, _create_values(w), strict=True))


def _create_values(w: CreateWrite) -> tuple[Any, ...]:
    return (
        w.id,
        w.learner_ref,
        w.home_member,
        w.host_member,
        w.purpose,
        w.document,
        w.created_at,
        w.due_at,
        w.client_id,
        w.items_json,
        w.key,
        "\\x" + w.fingerprint.hex(),  # bytea's hex input format
        w.response_headers_json,
        w.event.id,
        w.event.type,
        w.event.payload,
        w.revision,
        *w.audit.args(),
    )


async def insert_requests(conn: asyncpg.Connection, writes: Sequence[CreateWrite]) -> list[WriteResult]:
    """Write a batch of creations in one statement; one result per write, in order.

    Two writes of a batch must not share an idempotency key (the lock is the transaction's, so it would not
    keep the second out). A key committed meanwhile by another writer fails the whole statement
    (``KeyTaken``): nothing of the batch is written."""
    batch = msgspec.json.encode([_create_row(w) for w in writes]).decode()
    answer = await _write(conn, INSERT_REQUESTS, [batch])
    return [
        WriteResult(free=r["free"], current=r["current"], written=r["written"], prior=_prior(r))
        for r in answer
    ]


async def insert_request(conn: asyncpg.Connection, w: CreateWrite) -> WriteResult:
    """One creation on its own: a batch of one."""
    return (await insert_requests(conn, [w]))[0]


async def apply_action(conn: asyncpg.Connection, w: ActionWrite) -> WriteResult:
    args: list[Any] = [
        w.id,
        w.expected_version,
        list(w.allowed_from),
        w.state,
        w.document,
        w.now,
        w.assigned_to,
        w.due_at,
        w.outcome,
        w.round,
        w.appeal_until,
        w.decisions_json,
        w.institution,
        w.client_id,
        w.key,
        w.fingerprint,
        w.response.status,
        w.response.headers_json,
        w.response.body,
        w.event.id,
        w.event.type,
        w.event.payload,
        *w.audit.args(),
    ]
    assert len(args) == _ACTION_FIXED + APPEND_ARITY
    (row,) = await _write(conn, APPLY_ACTION, args)
    return WriteResult(free=row["free"], written=row["written"] > 0, prior=_prior(row))


async def load_for_action(
    conn: asyncpg.Connection, request_id: uuid.UUID, institution: str, client_id: str, key: str | None
) -> LoadedRequest:
    row = await conn.fetchrow(LOAD_FOR_ACTION, request_id, institution, client_id, key)
    return LoadedRequest(
        version=row["version"], state=row["state"], document=row["document"], prior=_prior(row)
    )


async def prior_response(conn: asyncpg.Connection, client_id: str, key: str) -> Prior | None:
    row = await conn.fetchrow(PRIOR, client_id, key)
    return None if row is None else _prior(row)


async def state_of(
    conn: asyncpg.Connection, request_id: uuid.UUID, institution: str
) -> tuple[int, str] | None:
    row = await conn.fetchrow(STATE_OF, request_id, institution)
    return None if row is None else (row["version"], row["state"])


async def document(
    conn: asyncpg.Connection, request_id: uuid.UUID, institution: str
) -> tuple[int, str] | None:
    row = await conn.fetchrow(DOCUMENT, request_id, institution)
    return None if row is None else (row["version"], row["document"])


async def expired_decisions(conn: asyncpg.Connection, now: dt.datetime, limit: int) -> list[str]:
    """Documents of up to ``limit`` decided requests whose appeal window ended before ``now``."""
    rows = await conn.fetch(EXPIRED_DECISIONS, now, limit)
    return [r["document"] for r in rows]


async def list_requests(
    conn: asyncpg.Connection,
    *,
    institution: str,
    after: uuid.UUID | None,
    states: list[str] | None,
    assigned_to: str | None,
    due_before: dt.datetime | None,
    role: str | None,
    limit: int,
) -> list[MobilityRequestSummary]:
    rows = await conn.fetch(LIST_REQUESTS, institution, after, states, assigned_to, due_before, role, limit)
    return [
        MobilityRequestSummary(
            id=str(r["id"]),
            version=r["version"],
            state=r["state"],
            home_member=r["home_member"],
            host_member=r["host_member"],
            round=r["round"],
            items=r["items"],
            created_at=r["created_at"],
            updated_at=r["updated_at"],
            outcome=r["outcome"],
            assigned_to=r["assigned_to"],
            due_at=r["due_at"],
            appeal_until=r["appeal_until"],
        )
        for r in rows
    ]


async def list_events(
    conn: asyncpg.Connection, *, institution: str, after: int, limit: int
) -> list[MobilityEvent]:
    rows = await conn.fetch(LIST_EVENTS, institution, after, limit)
    return [
        MobilityEvent(
            seq=r["seq"],
            id=str(r["id"]),
            type=r["type"],
            timestamp=r["occurred_at"],
            request_id=r["request_id"],
            version=r["version"],
        )
        for r in rows
    ]
