"""Audit entries of concurrent requests appended together: one statement and one commit per batch.

Every learner lookup writes an access-audit entry (R22) once its fan-out is over and answers only after the
entry is committed. One at a time, that is a pooled connection, a round trip and a commit per lookup.
``GroupedAudit`` appends every entry that arrived while the previous batch was being written in one
statement (``audit_append`` per entry, in one transaction; ``gateway.db.group_commit``), so under load
those costs are paid per batch; with no load a batch holds one entry and adds no wait.

Entries go into the statement sorted by stream. Each append locks its stream's head until the commit, so
two processes' batches that share streams take those locks in the same order and cannot deadlock; entries
of one stream in one batch are chained in the order they arrived. A batch is all or nothing: when the
database refuses one of its entries, the batch is written again one entry at a time and only the entry at
fault hears the error.

Only entries that stand alone belong here. An entry that records a change must be written in the change's
own transaction (``append``, ``append_sql``).
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg
import msgspec
from opentelemetry.trace import Tracer

from gateway.audit.chain import AuditEntry, append
from gateway.db.deps import pooled
from gateway.db.group_commit import GroupCommit

__all__ = ["GroupedAudit"]

# What one entry can cause (a value the database refuses, or one that cannot be sent: a lone surrogate),
# or the batch's locks meeting another transaction's: either way nothing of the batch was written and each
# entry alone may well succeed.
_ENTRY_ERRORS = (
    asyncpg.DataError,
    asyncpg.IntegrityConstraintViolationError,
    asyncpg.exceptions.DeadlockDetectedError,
    UnicodeEncodeError,
)
# One row per entry, in the batch's order. The batch is one JSON document, not eleven arrays: asyncpg checks
# every array element against three abstract base classes before encoding it, which cost more than the rest
# of the statement (about 170k instructions for one entry); msgspec writes the document in a few hundred.
# The document is the entries as they encode (``json_to_recordset`` matches their field names).
APPEND_MANY = """
SELECT audit_append(e.stream, e.action, e.institution, e.client_id, e.sub, e.learner, e.resource,
                    e.purpose, e.outcome, e.trace_id, e.details)
FROM ROWS FROM (json_to_recordset($1::json) AS (stream text, action text, institution text, client_id text,
                                                sub text, learner uuid, resource text, purpose text,
                                                outcome text, trace_id text, details jsonb))
     WITH ORDINALITY AS e(stream, action, institution, client_id, sub, learner, resource, purpose, outcome,
                          trace_id, details, ord)
ORDER BY e.ord
"""


class GroupedAudit:
    """One per serving process. ``append`` answers the entry's sequence number in its stream once the
    entry is committed."""

    def __init__(
        self, pool: asyncpg.Pool, *, acquire_timeout: float, tracer: Tracer, max_batch: int = 64
    ) -> None:
        self._pool = pool
        self._acquire_timeout = acquire_timeout
        self._group: GroupCommit[AuditEntry, int] = GroupCommit(
            self._append_batch, tracer=tracer, span_name="audit.append.flush", max_batch=max_batch
        )

    async def append(self, entry: AuditEntry) -> int:
        return await self._group.submit(entry)

    async def _append_batch(self, batch: Sequence[AuditEntry]) -> list[int | Exception]:
        order = sorted(range(len(batch)), key=lambda index: batch[index].stream)
        # The audit tables are not under row-level security: no institution to name.
        async with pooled(self._pool, self._acquire_timeout) as conn:
            try:
                seqs = await append_many(conn, [batch[index] for index in order])
            except _ENTRY_ERRORS:
                if len(batch) == 1:
                    raise
                return [await _append_alone(conn, entry) for entry in batch]
        outcomes: list[int | Exception] = [0] * len(batch)
        for index, seq in zip(order, seqs, strict=True):
            outcomes[index] = seq
        return outcomes


async def append_many(conn: asyncpg.Connection, entries: Sequence[AuditEntry]) -> list[int]:
    """Append ``entries`` in one statement, in this order; their sequence numbers, in the same order."""
    rows = await conn.fetch(APPEND_MANY, _BATCH.encode(entries).decode())
    return [row[0] for row in rows]


_BATCH = msgspec.json.Encoder()


async def _append_alone(conn: asyncpg.Connection, entry: AuditEntry) -> int | Exception:
    try:
        return await append(conn, entry)
    except _ENTRY_ERRORS as exc:
        refused: Exception = exc
        return refused
