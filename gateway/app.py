"""The Litestar app factory: one place that mounts every capability, its dependencies and telemetry."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from litestar import Litestar, Router
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin
from litestar.openapi.spec import Components, OAuthFlow, OAuthFlows, SecurityScheme

from adapters.frameworks import Converter, FrameworkRegistry
from contracts.scopes import SCOPES
from gateway.audit.grouped import GroupedAudit
from gateway.auth.client_keys import RegistryKeySource
from gateway.auth.errors import OAuthError
from gateway.auth.guard import RequireToken, check_route_guards, provide_principal
from gateway.auth.keys import key_algorithms
from gateway.auth.replay import ReplayStore
from gateway.auth.rfc9068 import TokenValidator
from gateway.auth.routes import oauth_error_response, whoami
from gateway.auth.routes import routes as oauth_routes
from gateway.auth.service import AuthService
from gateway.auth.trust import TrustStore
from gateway.background import in_background
from gateway.config import Settings
from gateway.conversions.routes import ConversionsController, FrameworksController
from gateway.db.deps import provide_connection
from gateway.db.embedded import embedded_postgres
from gateway.db.migrate import available
from gateway.db.pool import database_pool
from gateway.db.startup import until_reachable
from gateway.learners.bases import GroupedBases
from gateway.learners.routes import LearnersController
from gateway.lookup.margin import AnswerMargin
from gateway.lookup.members import Federation
from gateway.lookup.routes import CatalogueController, CredentialsController, LearnerCredentialsController
from gateway.lookup.service import LookupService
from gateway.members.routes import MembersController
from gateway.mobility.closing import Closer
from gateway.mobility.creations import GroupedCreations
from gateway.mobility.routes import MobilityRequestsController
from gateway.mobility.routes import events as mobility_events
from gateway.ops.routes import healthz, readyz
from gateway.pathways.routes import LearnerPathwaysController
from gateway.pathways.service import PathwaysService
from gateway.problems import exception_handlers
from gateway.recognition.routes import AgreementsController, EquivalencesController
from gateway.recognition.routes import evaluate as recognition_evaluate
from gateway.recognition.service import EngineCache
from gateway.runtime import migrate_when_reachable
from gateway.telemetry import Telemetry, TracingMiddleware, configure_telemetry
from gateway.webhooks.relay import Relay, RelayConfig
from gateway.webhooks.routes import webhook_jwks

__all__ = ["create_app"]

API_VERSION = "1.0.0"
DOCS_PATH = "/schema"


def create_app(settings: Settings | None = None, *, telemetry: Telemetry | None = None) -> Litestar:
    """Build the gateway app. With no arguments (granian's factory call) settings come from the environment.

    The database pool is created at start-up: from ``settings.database_url`` when set, otherwise on the
    embedded PostgreSQL in ``settings.data_dir``. Pending migrations are applied first (under a lock), and
    the gateway's signing keys are created on first start.
    """
    settings = settings or Settings.from_env()
    frameworks = FrameworkRegistry.from_entry_points()
    owns_telemetry = telemetry is None
    telemetry = telemetry or configure_telemetry(trace_console=settings.trace_console)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            dsn = settings.database_url or stack.enter_context(embedded_postgres(settings.data_dir))
            # Migrations run as the tables' owner, on a connection of their own: the pool's connections work
            # as the application role (gateway.db.tenancy), which may not change the schema.
            if settings.migrate_on_start:
                await migrate_when_reachable(dsn, settings)
            else:
                await until_reachable(dsn, settings)
            pool = await stack.enter_async_context(database_pool(dsn, settings, telemetry.tracer))
            trust = TrustStore(
                pool,
                settings.signing_keys_dir,
                interval=settings.trust_refresh_interval,
                acquire_timeout=settings.db_acquire_timeout,
                key_algs=key_algorithms(settings.access_token_alg),
            )
            await trust.start()
            stack.push_async_callback(trust.stop)
            if settings.relay_enabled:
                config = RelayConfig.from_settings(settings)
                relay = Relay(pool, settings.signing_keys_dir, config, tracer=telemetry.tracer)
                await stack.enter_async_context(in_background(relay.run(), "webhook-relay"))
            closer = Closer(pool, interval=settings.mobility_close_interval, tracer=telemetry.tracer)
            await stack.enter_async_context(in_background(closer.run(), "mobility-closer"))
            key_source = RegistryKeySource(
                tracer=telemetry.tracer, allow_insecure_loopback=settings.outbound_allow_loopback
            )
            stack.push_async_callback(key_source.aclose)
            app.state.pool = pool
            app.state.creations = GroupedCreations(
                pool, acquire_timeout=settings.db_acquire_timeout, tracer=telemetry.tracer
            )
            app.state.auth = AuthService(
                settings=settings,
                pool=pool,
                trust=trust,
                validator=TokenValidator(
                    issuer=settings.issuer,
                    audience=settings.token_audience,
                    cache_size=settings.token_cache_size,
                ),
                key_source=key_source,
                replay=ReplayStore(
                    pool, acquire_timeout=settings.db_acquire_timeout, tracer=telemetry.tracer
                ),
            )
            federation = Federation(
                pool=pool, settings=settings, trust=trust, tracer=telemetry.tracer, frameworks=frameworks
            )
            stack.push_async_callback(federation.aclose)
            app.state.lookup = LookupService(
                federation=federation,
                tracer=telemetry.tracer,
                audit=GroupedAudit(
                    pool, acquire_timeout=settings.db_acquire_timeout, tracer=telemetry.tracer
                ),
                bases=GroupedBases(
                    pool, acquire_timeout=settings.db_acquire_timeout, tracer=telemetry.tracer
                ),
                margin=AnswerMargin(
                    floor=settings.lookup_answer_margin, ceiling=settings.lookup_answer_margin_max
                ),
            )
            app.state.pathways = PathwaysService(
                lookup=app.state.lookup,
                engines=app.state.recognition,
                pool=pool,
                acquire_timeout=settings.db_acquire_timeout,
            )
            yield
        if owns_telemetry:
            telemetry.shutdown()

    app = Litestar(
        route_handlers=[
            # Public: outside the router whose middleware requires a token.
            healthz,
            readyz,
            *oauth_routes,
            webhook_jwks,
            Router(
                "/",
                middleware=[RequireToken],
                route_handlers=[
                    whoami,
                    MembersController,
                    FrameworksController,
                    ConversionsController,
                    recognition_evaluate,
                    AgreementsController,
                    EquivalencesController,
                    MobilityRequestsController,
                    mobility_events,
                    LearnersController,
                    LearnerCredentialsController,
                    CredentialsController,
                    CatalogueController,
                    LearnerPathwaysController,
                ],
            ),
        ],
        dependencies={
            "conn": Provide(provide_connection),
            "principal": Provide(provide_principal, sync_to_thread=False),
        },
        exception_handlers={**exception_handlers(), OAuthError: oauth_error_response},
        middleware=[DefineMiddleware(TracingMiddleware, tracer=telemetry.tracer)],
        lifespan=[lifespan],
        state=State(
            {
                "settings": settings,
                "migration_versions": [m.version for m in available()],
                "frameworks": frameworks,
                "converter": Converter(frameworks),
                "recognition": EngineCache(frameworks),
            }
        ),
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="Consortium Gateway",
            version=API_VERSION,
            description="Mutual recognition of micro-credentials, learner mobility and federated credential "
            "lookup for a consortium of universities and colleges. Errors are RFC 9457 problem+json. "
            "Call /oauth/token with a private_key_jwt client assertion to get a bearer token.",
            path=DOCS_PATH,
            render_plugins=[ScalarRenderPlugin()],
            components=Components(
                security_schemes={
                    "oauth2": SecurityScheme(
                        type="oauth2",
                        description="client_credentials with private_key_jwt client authentication",
                        flows=OAuthFlows(
                            client_credentials=OAuthFlow(token_url="/oauth/token", scopes=dict(SCOPES))
                        ),
                    )
                }
            ),
        ),
        logging_config=None,
        debug=False,
    )
    check_route_guards(app, public_prefixes=(DOCS_PATH,))
    return app
