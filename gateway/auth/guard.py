"""The resource server: every route declares its scopes, and nothing else gets through (R6, R14, R15).

A route is either public (``opt={"public": True}``: probes, discovery, the token endpoint, the API
documentation) or declares ``opt={"scopes": [...]}``, all of which the caller's token must carry, and sits
behind the ``RequireToken`` middleware. The app refuses to start if any route is neither
(``check_route_guards``), so a forgotten scope or guard is a start-up failure rather than an open endpoint.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from litestar import Litestar, Request
from litestar.datastructures import State
from litestar.enums import ScopeType
from litestar.routes import HTTPRoute
from litestar.types import ASGIApp, Receive, Scope, Send

from gateway.auth.errors import InsufficientScope, InvalidToken
from gateway.auth.rfc9068 import Principal

__all__ = [
    "AuthorizedRequest",
    "RequireToken",
    "UnguardedRoute",
    "authorize",
    "check_route_guards",
    "provide_principal",
]


class UnguardedRoute(RuntimeError):
    """A non-public route declares no scopes."""


def authorize(scope: Scope, opt: dict[str, Any]) -> None:
    """Authenticate the bearer token and check the route's scopes; set ``scope["auth"]`` to the principal."""
    if opt.get("public"):
        return
    required: list[str] = opt.get("scopes") or []
    if not required:  # deny by default; check_route_guards makes this unreachable in a started app
        raise InvalidToken("this route is not open to any token")
    # Read the raw ASGI scope: this runs on every request, and parsed header/query objects cost more.
    query = scope.get("query_string", b"")
    if b"access_token" in query and "access_token" in parse_qs(query.decode("latin-1")):
        # RFC 6750 section 2.3 is not supported: tokens in URLs end up in logs (R6).
        raise InvalidToken("access tokens are accepted only in the Authorization header")
    header = None
    for name, value in scope["headers"]:
        if name == b"authorization":
            header = value.decode("latin-1")
            break
    if not header:
        raise InvalidToken("no access token")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("use the Bearer authorization scheme")
    auth = scope["litestar_app"].state.auth
    principal = auth.validator.validate(token.strip(), auth.trust.snapshot)
    missing = [s for s in required if s not in principal.scopes]
    if missing:
        raise InsufficientScope(f"this route needs scope {' '.join(missing)}", required=required)
    scope["auth"] = principal


class RequireToken:
    """ASGI middleware of the guarded router: ``authorize`` before any handler code or dependency runs.

    A middleware rather than a Litestar guard: a guard is handed a copy of the route handler on every
    request, which cost as much as the cached token validation itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP:
            authorize(scope, scope["route_handler"].opt)
        await self.app(scope, receive, send)


# A guarded route's request: RequireToken has put the principal in ``request.auth``. Handlers that hold no
# connection read it (and ``request.app.state``) from here rather than through dependencies: Litestar's
# resolution of one dependency cost about 4 % of a mobility creation's instructions, and ``state: State``
# copies the app state on every request.
AuthorizedRequest = Request[Any, Principal, State]


def provide_principal(scope: Scope) -> Principal:
    principal = scope.get("auth")
    if not isinstance(principal, Principal):
        raise InvalidToken("no access token")
    return principal


def check_route_guards(app: Litestar, public_prefixes: tuple[str, ...]) -> None:
    """Mark documentation and CORS pre-flight handlers public; refuse any other route without scopes or
    outside the ``RequireToken`` middleware (public routes are registered outside the guarded router)."""
    unguarded = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            documentation = any(route.path == p or route.path.startswith(p + "/") for p in public_prefixes)
            if handler.http_methods == {"OPTIONS"} or documentation:
                handler.opt.setdefault("public", True)
            if handler.opt.get("public"):
                continue
            scopes = handler.opt.get("scopes")
            if not scopes or RequireToken not in handler.resolve_middleware():
                unguarded.append(f"{sorted(handler.http_methods)} {route.path}")
            elif handler.security is None:
                handler.security = [{"oauth2": list(scopes)}]  # shown in the OpenAPI document
    if unguarded:
        raise UnguardedRoute(
            "routes with neither scopes and RequireToken nor a public mark: " + ", ".join(unguarded)
        )
