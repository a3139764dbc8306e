"""Audit entries of concurrent requests, appended in one statement and one commit (group commit).

For requests whose only write is their audit entry (R22: every federated lookup, allowed or denied), the
entry's commit was a statement, a round trip and a WAL flush each. Here one ``audit_append`` call per entry
runs in one statement per batch. Each call sees the streams' heads as the calls before it in the same
statement left them, so two entries of one learner's stream in one batch chain one after the other.

Entries are appended in stream order: two processes' batches take the heads' row locks in the same order
and cannot deadlock. A batch that fails on one entry's data is appended again one entry at a time, so only
that entry's request fails.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg
from opentelemetry.trace import Tracer

from gateway.audit.chain import APPEND_ARITY, AuditEntry
from gateway.db.deps import pooled
from gateway.db.group_commit import GroupCommit

__all__ = ["GroupedAudit"]

_TYPES = ("text", "text", "text", "text", "text", "uuid", "text", "text", "text", "text", "text")
assert len(_TYPES) == APPEND_ARITY
_COLUMNS = ", ".join(f"f{i}" for i in range(APPEND_ARITY))
_CALL = ", ".join(f"e.f{i}::jsonb" if i == APPEND_ARITY - 1 else f"e.f{i}" for i in range(APPEND_ARITY))
_ARRAYS = ", ".join(f"${i + 1}::{kind}[]" for i, kind in enumerate(_TYPES))
APPEND_MANY = f"""
SELECT e.ord, audit_append({_CALL}) AS seq
FROM unnest({_ARRAYS}) WITH ORDINALITY AS e({_COLUMNS}, ord)
"""  # noqa: S608 (fixed SQL: numbered parameters only)

# What one entry can cause; others (the connection, the server) are the batch's as a whole.
_ENTRY_ERRORS = (asyncpg.IntegrityConstraintViolationError, asyncpg.DataError)


async def append_many(conn: asyncpg.Connection, entries: Sequence[AuditEntry]) -> list[int]:
    """Append ``entries`` in one statement; their sequence numbers, in the order given."""
    order = sorted(range(len(entries)), key=lambda i: entries[i].stream)
    rows: list[tuple[Any, ...]] = [entries[i].args() for i in order]
    columns = [list(column) for column in zip(*rows, strict=True)]
    answer = await conn.fetch(APPEND_MANY, *columns)
    seqs = [0] * len(entries)
    for row in answer:
        seqs[order[row["ord"] - 1]] = row["seq"]
    return seqs


class GroupedAudit:
    """One per serving process, for entries written on their own (not inside a business change)."""

    def __init__(
        self, pool: asyncpg.Pool, *, acquire_timeout: float, tracer: Tracer, max_batch: int = 64
    ) -> None:
        self._pool = pool
        self._acquire_timeout = acquire_timeout
        self._group: GroupCommit[AuditEntry, int] = GroupCommit(
            self._append, tracer=tracer, span_name="audit.append.flush", max_batch=max_batch
        )

    async def append(self, entry: AuditEntry) -> int:
        """Append ``entry`` once its batch has committed; its sequence number in its stream."""
        return await self._group.submit(entry)

    async def _append(self, batch: Sequence[AuditEntry]) -> list[int | Exception]:
        async with pooled(self._pool, self._acquire_timeout) as conn:
            try:
                return list(await append_many(conn, batch))
            except _ENTRY_ERRORS as exc:
                if len(batch) == 1:
                    return [exc]
            outcomes: list[int | Exception] = []
            for entry in batch:  # nothing was written: again, one at a time, so the fault is the entry's
                try:
                    outcomes += await append_many(conn, [entry])
                except _ENTRY_ERRORS as exc:
                    outcomes.append(exc)
            return outcomes
