"""The one asyncpg pool of a process, with bounded waits and a span per query."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Tracer

from adapters.tracing import child_span
from gateway.config import Settings
from gateway.db.tenancy import TenantConnection, as_app_role

__all__ = ["connect_pool", "database_pool", "traced_connection_class"]

_QUERY_METHODS = ("execute", "executemany", "fetch", "fetchrow", "fetchval")


def traced_connection_class(tracer: Tracer) -> type[asyncpg.Connection]:
    """An asyncpg Connection subclass whose query methods each open a CLIENT span.

    The SQL text is recorded (it is parameterised, so it holds no learner data); arguments never are (R24).
    Attributes are only collected when the span is sampled, to keep unsampled queries cheap.
    """

    def wrap(name: str) -> Callable[..., Any]:
        base = getattr(asyncpg.Connection, name)

        async def method(self: asyncpg.Connection, query: str, *args: Any, **kwargs: Any) -> Any:
            with child_span(tracer, f"db {name}", kind=SpanKind.CLIENT) as span:
                if span.is_recording():
                    span.set_attribute("db.system.name", "postgresql")
                    span.set_attribute("db.operation.name", query.lstrip().split(None, 1)[0].upper())
                    span.set_attribute("db.query.text", query)
                return await base(self, query, *args, **kwargs)

        method.__name__ = name
        return method

    return type("TracedConnection", (TenantConnection,), {n: wrap(n) for n in _QUERY_METHODS})


async def _keep_session_state(conn: asyncpg.Connection) -> None:
    """Replaces asyncpg's default reset on release (``pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *;
    RESET ALL``), a round trip per request. Locks are transaction-level, other settings ``SET LOCAL`` or
    ``set_config(..., true)``, and no connection LISTENs. The two settings that do outlive a request are
    meant to: the role set when the connection opened, and the institution it works for, which each
    acquisition that needs it names again (``gateway.db.tenancy``, which remembers it to skip the round
    trip). asyncpg still rolls back an open transaction before calling this."""


async def connect_pool(dsn: str, settings: Settings, tracer: Tracer | None = None) -> asyncpg.Pool:
    """Create the pool. ``command_timeout`` bounds every statement; acquires are bounded by the caller."""
    return await asyncpg.create_pool(
        dsn,
        min_size=min(settings.db_pool_min, settings.db_pool_max),
        max_size=settings.db_pool_max,
        command_timeout=settings.db_command_timeout,
        timeout=settings.db_connect_timeout,
        max_inactive_connection_lifetime=300,
        connection_class=traced_connection_class(tracer or trace.get_tracer(__name__)),
        init=as_app_role,
        reset=_keep_session_state,
        server_settings={
            "application_name": "consortium-gateway",
            # A server-side bound too, so a statement the client gave up on does not run on (R17).
            "statement_timeout": str(int(settings.db_command_timeout * 1000)),
        },
    )


@asynccontextmanager
async def database_pool(
    dsn: str, settings: Settings, tracer: Tracer | None = None
) -> AsyncIterator[asyncpg.Pool]:
    pool = await connect_pool(dsn, settings, tracer)
    try:
        yield pool
    finally:
        await pool.close()
