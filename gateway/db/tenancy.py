"""Which institution a pooled connection works for: the key of the row-level security policies (R14,
migration 0011).

Every connection that reads or writes the mobility workflow's tables names its institution first: the
caller's (from the token, never from the request) for a request's own work, or ``ALL`` for the gateway's
own work across members (a batch of creations from several members, the webhook relay, the closer). The
setting lives in the session and the pool does not reset it, so each acquisition names its institution
again; the round trip is paid only when it differs from the connection's last one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

__all__ = ["ALL", "APP_ROLE", "acquire_for", "work_for"]

ALL = "*"
APP_ROLE = "consortium_gateway_app"
_SET = "SELECT set_config('app.institution', $1, $2)"


async def work_for(conn: Any, institution: str) -> None:
    """Name ``institution`` for the row-level security policies; ``conn`` may be a pool's proxy."""
    method = getattr(conn, "work_for", None)
    if method is not None:  # the gateway's pool: it remembers the connection's last institution
        await method(institution)
    else:
        await conn.fetchval(_SET, institution, conn.is_in_transaction())


class TenantConnection(asyncpg.Connection):  # type: ignore[misc]
    """Mixed into the pool's connection class: remembers the institution last set on the session."""

    _institution: str | None = None

    async def work_for(self, institution: str) -> None:
        if self.is_in_transaction():
            # Local to the transaction (a session setting would be undone by a rollback): not remembered.
            await asyncpg.Connection.fetchval(self, _SET, institution, True)
        elif self._institution != institution:
            await asyncpg.Connection.fetchval(self, _SET, institution, False)
            self._institution = institution


async def as_app_role(conn: asyncpg.Connection) -> None:
    """On every new pooled connection: work as the role the policies apply to (the tables' owner is not
    subject to them), when the migrations have created it; and for no institution yet."""
    await conn.execute(
        f"SELECT set_config('role', '{APP_ROLE}', false) WHERE EXISTS "  # noqa: S608 (a constant)
        f"(SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}')"
    )


@asynccontextmanager
async def acquire_for(pool: asyncpg.Pool, institution: str) -> AsyncIterator[asyncpg.Connection]:
    """``pool.acquire()`` for a background job, working for ``institution``."""
    async with pool.acquire() as conn:
        await work_for(conn, institution)
        yield conn
