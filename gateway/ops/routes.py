"""Liveness and readiness probes. Public: orchestrators call them without credentials."""

from __future__ import annotations

import asyncpg
import msgspec
from litestar import Response, get
from litestar.datastructures import State

from contracts.errors import DatabaseUnavailable, ServiceUnavailable
from gateway.db.deps import pooled
from gateway.db.migrate import applied_versions

__all__ = ["healthz", "readyz"]


class Health(msgspec.Struct, kw_only=True):
    status: str


class Readiness(msgspec.Struct, kw_only=True):
    status: str
    schema_version: int


@get("/healthz", summary="Liveness: the process is serving", tags=["ops"], opt={"public": True})
async def healthz() -> Health:
    return Health(status="ok")


@get(
    "/readyz",
    summary="Readiness: the database is reachable and its migrations are current",
    tags=["ops"],
    opt={"public": True},
)
async def readyz(state: State) -> Response[Readiness]:
    # ``pooled`` answers 503 when no connection comes in time; any error of the query itself also means
    # "not ready", never a 500.
    try:
        async with pooled(state.pool, state.settings.db_acquire_timeout) as conn:
            applied = await applied_versions(conn)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise DatabaseUnavailable("the database is not reachable") from exc
    missing = [v for v in state.migration_versions if v not in applied]
    if missing:
        raise ServiceUnavailable(f"migrations not applied: {missing}")
    return Response(Readiness(status="ready", schema_version=max(applied, default=0)))
