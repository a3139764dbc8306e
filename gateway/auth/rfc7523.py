"""Client authentication with private_key_jwt: RFC 7523 section 3, as tightened by RFC 10070 (R1-R5).

A client proves who it is with a JWT it signed with one of its registered keys. Beyond RFC 7523 we
require what the security reference asks (R3): the issuer identifier as the sole ``aud``, ``iss`` =
``sub`` = client_id, a short ``exp`` (at most 300 s away), a ``jti`` accepted once (R4, in PostgreSQL),
and a ``typ`` that is absent or ``client-authentication+jwt``, so no other kind of JWT passes as one.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from gateway.auth.errors import InvalidClient
from gateway.auth.jose import (
    AnyKey,
    JoseRejected,
    accepted_algorithms,
    import_public_key_cached,
    parse_compact,
    verify_compact,
)
from gateway.auth.store import ClientRow

__all__ = [
    "ASSERTION_TYPE",
    "AuthenticatedClient",
    "ClientKeySource",
    "InlineKeySource",
    "authenticate_client",
]

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_ASSERTION_LIFETIME = 300  # seconds, R3
MAX_FUTURE_SKEW = 30  # seconds: iat/nbf up to 10 s ahead must pass, 60 s ahead must fail (R3)
EXPIRED_LEEWAY = 5  # seconds of clock skew on exp
_TYPES = frozenset({"client-authentication+jwt", "application/client-authentication+jwt"})

log = logging.getLogger(__name__)


class ClientKeySource(Protocol):
    """Where a client's public keys come from: its inline JWKS, or its jwks_uri through a cache (R5)."""

    async def keys(
        self, client: ClientRow, kid: str | None, alg: str | None = None
    ) -> list[dict[str, Any]]: ...


class InlineKeySource:
    """Keys registered inline in the consortium file."""

    async def keys(self, client: ClientRow, kid: str | None, alg: str | None = None) -> list[dict[str, Any]]:
        jwks = client.jwks or {}
        keys = [k for k in jwks.get("keys", []) if isinstance(k, dict)]
        return [k for k in keys if kid is None or k.get("kid") == kid]


@dataclass(frozen=True, slots=True)
class AuthenticatedClient:
    client: ClientRow
    jti: str
    expires_at: dt.datetime


def _refuse(client_id: str | None, reason: str) -> InvalidClient:
    # The reason is for the client's developers and our logs; the assertion itself is never logged.
    log.info("client assertion refused", extra={"client_id": client_id, "reason": reason})
    return InvalidClient(f"client authentication failed: {reason}")


def _select_key(candidates: list[dict[str, Any]], alg: str) -> AnyKey | None:
    for jwk in candidates:
        if alg in accepted_algorithms(jwk) and jwk.get("use", "sig") == "sig":
            try:
                return import_public_key_cached(jwk)
            except JoseRejected:
                continue
    return None


async def authenticate_client(
    *,
    assertion: str,
    assertion_type: str | None,
    form_client_id: str | None,
    issuer: str,
    clients: dict[str, ClientRow],
    key_source: ClientKeySource,
    consume_jti: Callable[[str, str, dt.datetime], Awaitable[bool]],
    now: float | None = None,
) -> AuthenticatedClient:
    """Authenticate a client from its assertion, or raise ``InvalidClient`` (401, no token issued)."""
    if assertion_type != ASSERTION_TYPE:
        raise _refuse(form_client_id, "client_assertion_type must be " + ASSERTION_TYPE)
    try:
        header, claims = parse_compact(assertion)
    except JoseRejected as exc:
        raise _refuse(form_client_id, str(exc)) from exc

    client_id = claims.get("sub")
    if not isinstance(client_id, str) or claims.get("iss") != client_id:
        raise _refuse(form_client_id, "iss and sub must both be the client_id")
    if form_client_id is not None and form_client_id != client_id:
        raise _refuse(form_client_id, "client_id does not match the assertion's sub")
    client = clients.get(client_id)
    if client is None or client.status != "active" or client.member_status != "active":
        raise _refuse(client_id, "unknown or inactive client")

    typ = header.get("typ")
    if typ is not None and (not isinstance(typ, str) or typ.lower() not in _TYPES):
        raise _refuse(client_id, "typ must be client-authentication+jwt or absent")
    alg: str = header["alg"]
    kid = header.get("kid")
    key = _select_key(await key_source.keys(client, kid, alg), alg)
    if key is None:
        raise _refuse(
            client_id,
            f"no registered key of this client accepts alg {alg!r}" + (" and this kid" if kid else ""),
        )
    try:
        verify_compact(assertion, key, alg)
    except JoseRejected as exc:
        raise _refuse(client_id, str(exc)) from exc

    # Claims are checked only after the signature: nothing unauthenticated reaches the jti table.
    current = time.time() if now is None else now
    if claims.get("aud") != issuer:  # a string equal to the issuer; a list, even [issuer], is refused
        raise _refuse(client_id, "aud must be the issuer identifier, as a single string")
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        raise _refuse(client_id, "exp is required")
    if exp <= current - EXPIRED_LEEWAY:
        raise _refuse(client_id, "the assertion has expired")
    if exp - current > MAX_ASSERTION_LIFETIME:
        raise _refuse(client_id, f"exp must be at most {MAX_ASSERTION_LIFETIME} s away")
    for name in ("iat", "nbf"):
        value = claims.get(name)
        if value is None:
            continue
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise _refuse(client_id, f"{name} must be a number")
        if value > current + MAX_FUTURE_SKEW:
            raise _refuse(client_id, f"{name} is in the future")
    iat = claims.get("iat")
    if isinstance(iat, int | float) and exp - iat > MAX_ASSERTION_LIFETIME:
        raise _refuse(client_id, f"exp - iat must be at most {MAX_ASSERTION_LIFETIME} s")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not 1 <= len(jti) <= 256:
        raise _refuse(client_id, "jti is required (at most 256 characters)")

    expires_at = dt.datetime.fromtimestamp(exp + EXPIRED_LEEWAY, dt.UTC)
    if not await consume_jti(client_id, jti, expires_at):
        raise _refuse(client_id, "this assertion has already been used (jti replay)")
    return AuthenticatedClient(client=client, jti=jti, expires_at=expires_at)
