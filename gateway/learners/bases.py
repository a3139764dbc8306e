"""The lawful-basis check of concurrent lookups, read together: one statement per batch.

Every learner lookup first reads the caller's basis for the learner (R21: a live consent, or an open
mobility request between them) and the learner's links to members. ``GroupedBases`` reads the checks that
arrive while the previous batch is being read in one statement (``gateway.db.group_commit``): under load a
pooled connection and a round trip are paid per batch, not per lookup; with no load a batch holds one check
and adds no wait. A batch reads one snapshot, taken after each of its checks was asked for, so a consent
withdrawn before a lookup asked is never found live.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg
from opentelemetry.trace import Tracer

from contracts.learners import LearnerKey
from gateway.db.deps import pooled
from gateway.db.group_commit import GroupCommit
from gateway.db.tenancy import ALL
from gateway.learners.store import Basis, learner_bases

__all__ = ["GroupedBases"]


class GroupedBases:
    """One per serving process: ``basis`` is ``store.learner_basis``, read in a batch."""

    def __init__(
        self, pool: asyncpg.Pool, *, acquire_timeout: float, tracer: Tracer, max_batch: int = 64
    ) -> None:
        self._pool = pool
        self._acquire_timeout = acquire_timeout
        self._group: GroupCommit[tuple[str, str, str], Basis] = GroupCommit(
            self._read, tracer=tracer, span_name="learners.basis.read", max_batch=max_batch
        )

    async def basis(self, key: LearnerKey, caller: str, purpose: str) -> Basis:
        return await self._group.submit((key.value, caller, purpose))

    async def _read(self, batch: Sequence[tuple[str, str, str]]) -> list[Basis | Exception]:
        # A batch holds several callers' checks; the statement names each check's caller itself, as the
        # row-level security policy on mobility requests would.
        async with pooled(self._pool, self._acquire_timeout, ALL) as conn:
            return list(await learner_bases(conn, batch))
