"""Appending to the hash-chained audit log (R22): one entry per state change or learner-data access.

The chain itself is built by the database function ``audit_append`` (migration 0004), so a writer can
append inside the same statement as its business change (R22: same transaction; W6: one round trip):
``append_sql(n)`` is the call expression with parameters ``$n..$n+10`` and ``entry.args()`` their values.
``append`` is the stand-alone form. Entries carry ids and codes, never personal data: the learner is the
consortium's pseudonymous learner id (a UUID), not an ESI or a name.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg
import msgspec
from opentelemetry import trace

__all__ = [
    "APPEND_ARITY",
    "AuditEntry",
    "append",
    "append_sql",
    "current_trace_id",
    "entry_params",
    "first_entry_sql",
]

APPEND_ARITY = 11


class AuditEntry(msgspec.Struct, frozen=True, kw_only=True):
    """What one audit entry records: who (institution, client, registrar ``sub``), whom, what, why, how."""

    stream: str
    action: str
    institution: str
    client_id: str
    resource: str
    outcome: str
    sub: str | None = None
    learner: uuid.UUID | None = None
    purpose: str | None = None
    trace_id: str | None = None
    details: dict[str, Any] = {}

    def args(self) -> tuple[Any, ...]:
        """The parameters of ``append_sql``, in order."""
        return (
            self.stream,
            self.action,
            self.institution,
            self.client_id,
            self.sub,
            self.learner,
            self.resource,
            self.purpose,
            self.outcome,
            self.trace_id,
            msgspec.json.encode(self.details).decode(),
        )


def append_sql(first: int = 1) -> str:
    """``audit_append($first, ..., $first+10::jsonb)``: returns the entry's sequence number in its stream."""
    params = entry_params(first)
    params[5] += "::uuid"
    params[10] += "::jsonb"
    return f"audit_append({', '.join(params)})"


def entry_params(first: int) -> list[str]:
    """``$first..$first+10``: the parameters that carry ``entry.args()``."""
    return [f"${first + i}" for i in range(APPEND_ARITY)]


def first_entry_sql(values: Sequence[str], at: str, source: str) -> str:
    """CTE members that start new streams with their first entries, inside a writer's own statement.

    For streams that cannot exist yet (named after fresh ids): two inserts where ``audit_append`` would run
    a function of three statements. ``values`` are eleven SQL expressions in the order of ``entry.args()``:
    ``entry_params(n)`` for one entry passed as parameters, or columns of ``source`` for one entry per row.
    ``at`` is the entry's time (a timestamptz expression). An entry is written for each row of the CTE
    ``source``: one row or none for a single write, one per written row for a batch. Defines
    ``audit_entry``, ``audit_head`` and ``audit`` (the new entries' ``stream``). A stream that exists after
    all makes the statement fail on ``audit_heads``' key: nothing is written, the chain is never forked.
    """
    if len(values) != APPEND_ARITY:
        raise ValueError(f"an audit entry has {APPEND_ARITY} fields, not {len(values)}")
    stream, action, inst, client, sub, learner, resource, purpose, outcome, trace, details = values
    # Only the caller's fixed expressions are spliced in, never a value.
    return f"""audit_entry AS (
    SELECT e.stream, e.at, e.action, e.inst, e.client, e.sub, e.learner, e.resource, e.purpose, e.outcome,
           e.trace, e.details,
           audit_hash('\\x'::bytea, e.stream, 1, e.at, e.action, e.inst, e.client, e.sub, e.learner,
                      e.resource, e.purpose, e.outcome, e.trace, e.details) AS hash
    FROM {source},
         LATERAL (SELECT {stream}::text AS stream, date_trunc('milliseconds', {at}) AS at,
                         {action}::text AS action, {inst}::text AS inst, {client}::text AS client,
                         {sub}::text AS sub, {learner}::uuid AS learner, {resource}::text AS resource,
                         {purpose}::text AS purpose, {outcome}::text AS outcome, {trace}::text AS trace,
                         coalesce({details}::jsonb, '{{}}'::jsonb) AS details) AS e
), audit_head AS (
    INSERT INTO audit_heads (stream, seq, hash) SELECT stream, 1, hash FROM audit_entry
), audit AS (
    INSERT INTO audit_entries (stream, seq, at, action, actor_institution, actor_client, actor_sub, learner,
                               resource, purpose, outcome, trace_id, details, prev_hash, hash)
    SELECT stream, 1, at, action, inst, client, sub, learner, resource, purpose, outcome, trace, details,
           '\\x'::bytea, hash
    FROM audit_entry
    RETURNING stream
)"""  # noqa: S608


async def append(conn: asyncpg.Connection, entry: AuditEntry) -> int:
    """Append ``entry`` (in the caller's transaction, if any); its sequence number in the stream."""
    seq: int = await conn.fetchval(f"SELECT {append_sql()}", *entry.args())
    return seq


def current_trace_id() -> str | None:
    """The active span's trace id (hex), for correlating an audit entry with its trace."""
    ctx = trace.get_current_span().get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid else None
