"""HTTP routes of the authorisation server. All public: clients authenticate with assertions here."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import State

from gateway.auth.errors import InvalidGrantRequest, OAuthError
from gateway.auth.guard import AuthorizedRequest
from gateway.auth.rfc8414 import AuthorizationServerMetadata, metadata
from gateway.auth.service import AuthService, IntrospectionResponse, TokenResponse

__all__ = ["oauth_error_response", "routes", "whoami"]

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_FORM = "application/x-www-form-urlencoded"


def oauth_error_response(_: Request[Any, Any, Any], exc: OAuthError) -> Response[Any]:
    """RFC 6749 section 5.2."""
    return Response(
        {"error": exc.error, "error_description": exc.description}, status_code=exc.status, headers=_NO_STORE
    )


async def _form(request: Request[Any, Any, Any]) -> dict[str, str]:
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != _FORM:
        raise InvalidGrantRequest(f"the request body must be {_FORM}")
    try:
        items = parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True, max_num_fields=20)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidGrantRequest("the form body is not valid UTF-8 url-encoded data") from exc
    names = [name for name, _ in items]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:  # RFC 6749 section 3.2: parameters must not be included more than once
        raise InvalidGrantRequest(f"repeated parameter: {', '.join(repeated)}")
    return dict(items)


def _auth(state: State) -> AuthService:
    service: AuthService = state.auth
    return service


_PUBLIC: dict[str, Any] = {"public": True}


@post(
    "/oauth/token",
    status_code=200,
    opt=_PUBLIC,
    tags=["oauth"],
    summary="Token endpoint (client_credentials, private_key_jwt)",
)
async def token(request: Request[Any, Any, Any], state: State) -> Response[TokenResponse]:
    form = await _form(request)
    issued = await _auth(state).token(form, request.headers.get("authorization"))
    return Response(issued, headers=_NO_STORE)


@post(
    "/oauth/introspect",
    status_code=200,
    opt=_PUBLIC,
    tags=["oauth"],
    summary="Token introspection (RFC 7662)",
)
async def introspect(request: Request[Any, Any, Any], state: State) -> Response[IntrospectionResponse]:
    form = await _form(request)
    result = await _auth(state).introspect(form, request.headers.get("authorization"))
    return Response(result, headers=_NO_STORE, status_code=200)


@post("/oauth/revoke", status_code=200, opt=_PUBLIC, tags=["oauth"], summary="Token revocation (RFC 7009)")
async def revoke(request: Request[Any, Any, Any], state: State) -> Response[None]:
    form = await _form(request)
    await _auth(state).revoke(form, request.headers.get("authorization"))
    return Response(None, status_code=200, headers=_NO_STORE)


@get("/oauth/jwks", opt=_PUBLIC, tags=["oauth"], summary="Public keys that sign access tokens")
async def jwks(state: State) -> dict[str, Any]:
    return _auth(state).trust.snapshot.keys.jwks("access-token")


@get(
    "/oauth/client-jwks",
    opt=_PUBLIC,
    tags=["oauth"],
    summary="Public keys of the gateway's own client assertions",
)
async def client_jwks(state: State) -> dict[str, Any]:
    return _auth(state).trust.snapshot.keys.jwks("client-assertion")


@get(
    "/.well-known/oauth-authorization-server",
    opt=_PUBLIC,
    tags=["oauth"],
    summary="Authorisation server metadata (RFC 8414)",
)
async def server_metadata(state: State) -> AuthorizationServerMetadata:
    return metadata(_auth(state).settings.issuer)


class WhoAmI(msgspec.Struct, kw_only=True):
    client_id: str
    institution: str
    scopes: list[str]
    expires_at: int


@get(
    "/v1/whoami",
    opt={"scopes": ["members:read"]},
    tags=["oauth"],
    summary="Who the access token speaks for: client, institution and scopes",
)
async def whoami(request: AuthorizedRequest) -> WhoAmI:
    # No dependency (see AuthorizedRequest): this trivial route is the yardstick of what authentication
    # costs (W5), and resolving a dependency costs more than checking a cached token.
    principal = request.auth
    return WhoAmI(
        client_id=principal.client_id,
        institution=principal.institution,
        scopes=sorted(principal.scopes),
        expires_at=int(principal.expires_at),
    )


# The authorisation server's routes, all public; ``whoami`` is a resource-server route and is guarded.
routes = [token, introspect, revoke, jwks, client_jwks, server_metadata]
