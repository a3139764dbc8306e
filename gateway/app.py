"""The Litestar app factory: one place that mounts every capability, its dependencies and telemetry."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin

from gateway.config import Settings
from gateway.db.deps import provide_connection
from gateway.db.embedded import embedded_postgres
from gateway.db.migrate import available, migrate
from gateway.db.pool import database_pool
from gateway.members.routes import MembersController
from gateway.ops.routes import healthz, readyz
from gateway.problems import exception_handlers
from gateway.telemetry import Telemetry, TracingMiddleware, configure_telemetry

__all__ = ["create_app"]

API_VERSION = "1.0.0"


def create_app(settings: Settings | None = None, *, telemetry: Telemetry | None = None) -> Litestar:
    """Build the gateway app. With no arguments (granian's factory call) settings come from the environment.

    The database pool is created at start-up: from ``settings.database_url`` when set, otherwise on the
    embedded PostgreSQL in ``settings.data_dir``. Pending migrations are applied first (under a lock).
    """
    settings = settings or Settings.from_env()
    owns_telemetry = telemetry is None
    telemetry = telemetry or configure_telemetry(trace_console=settings.trace_console)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            dsn = settings.database_url or stack.enter_context(embedded_postgres(settings.data_dir))
            pool = await stack.enter_async_context(database_pool(dsn, settings, telemetry.tracer))
            if settings.migrate_on_start:
                async with pool.acquire(timeout=settings.db_acquire_timeout) as conn:
                    await migrate(conn)
            app.state.pool = pool
            yield
        if owns_telemetry:
            telemetry.shutdown()

    return Litestar(
        route_handlers=[healthz, readyz, MembersController],
        dependencies={"conn": Provide(provide_connection)},
        exception_handlers=exception_handlers(),
        middleware=[DefineMiddleware(TracingMiddleware, tracer=telemetry.tracer)],
        lifespan=[lifespan],
        state=State({"settings": settings, "migration_versions": [m.version for m in available()]}),
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="Consortium Gateway",
            version=API_VERSION,
            description="Mutual recognition of micro-credentials, learner mobility and federated credential "
            "lookup for a consortium of universities and colleges. Errors are RFC 9457 problem+json.",
            path="/schema",
            render_plugins=[ScalarRenderPlugin()],
        ),
        logging_config=None,
        debug=False,
    )
