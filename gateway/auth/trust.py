"""What one gateway process trusts right now: clients, the gateway's keys and revoked tokens.

Everything that must agree across processes lives in PostgreSQL; each process keeps a snapshot and
reloads it every ``trust_refresh_interval`` (2 s by default), which bounds how long a revocation, a
disabled client or a new key takes to reach every process (R9: within 5 s).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from gateway.auth import store
from gateway.auth.keys import KeyRing, ensure_active_keys, load_key_ring
from gateway.auth.store import ClientRow

__all__ = ["TrustSnapshot", "TrustStore"]

log = logging.getLogger(__name__)

# Every process purges; the deletes are idempotent and cheap (indexed on expiry), so no leader is needed.
PURGE_INTERVAL = 60.0


@dataclass(frozen=True, slots=True)
class TrustSnapshot:
    clients: dict[str, ClientRow] = field(default_factory=dict)
    keys: KeyRing = field(default_factory=KeyRing)
    revoked: frozenset[str] = frozenset()


class TrustStore:
    """Holds the current snapshot and refreshes it in the background."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        keys_dir: Path,
        *,
        interval: float,
        acquire_timeout: float,
        key_algs: dict[str, str],
    ) -> None:
        self._pool = pool
        self._keys_dir = keys_dir
        self._key_algs = key_algs
        self._interval = interval
        self._acquire_timeout = acquire_timeout
        self.snapshot = TrustSnapshot()
        self._task: asyncio.Task[None] | None = None

    async def refresh(self) -> TrustSnapshot:
        async with self._pool.acquire(timeout=self._acquire_timeout) as conn:
            clients = await store.load_clients(conn)
            keys = await load_key_ring(conn, self._keys_dir, self.snapshot.keys)
            if any(purpose not in keys.signers for purpose in self._key_algs):
                # First start (or a purpose added by an upgrade): create the missing keys, under a lock.
                await ensure_active_keys(conn, self._keys_dir, self._key_algs)
                keys = await load_key_ring(conn, self._keys_dir, self.snapshot.keys)
            revoked = await store.load_revocations(conn)
        self.snapshot = TrustSnapshot(clients=clients, keys=keys, revoked=revoked)
        return self.snapshot

    async def purge(self) -> tuple[int, int]:
        """Drop assertion ids and revocations that can no longer matter (R4: bounded table growth)."""
        async with self._pool.acquire(timeout=self._acquire_timeout) as conn:
            return await store.purge_expired(conn)

    async def _run(self) -> None:
        last_purge = 0.0
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.refresh()
                now = asyncio.get_running_loop().time()
                if now - last_purge >= PURGE_INTERVAL:
                    last_purge = now
                    await self.purge()
            except Exception:  # keep the last good snapshot; the next tick retries
                log.warning("trust snapshot refresh failed; keeping the previous one", exc_info=True)

    async def start(self) -> None:
        """Load the first snapshot and keep refreshing. A database that is not migrated yet is not fatal:
        the snapshot stays empty (no token is accepted) and ``/readyz`` says why until it is."""
        try:
            await self.refresh()
        except (asyncpg.UndefinedTableError, asyncpg.UndefinedColumnError):
            log.warning("database schema not current; waiting for migrations before trusting any client")
        self._task = asyncio.create_task(self._run(), name="trust-refresh")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
