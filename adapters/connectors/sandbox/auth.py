"""Bearer-token check of the sandbox: an RFC 9068 JWT access token, as a member's OOAPI would demand.

Verified against an inline JWK set (no network): signature by a key of the set (by ``kid``), header
``typ`` ``at+jwt``, ``iss``, ``aud`` (string or list), ``exp`` (with a small leeway) and a required scope
in the space-separated ``scope`` claim. Failures carry the HTTP status and an OOAPI ``Problem`` kind:
401 ``invalid_token`` or 403 ``insufficient_scope`` (RFC 6750 section 3.1).
"""

from __future__ import annotations

import time
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

__all__ = ["AuthFailure", "BearerVerifier"]

_ACCESS_TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt"})
_ALGORITHMS = ["ES256", "ES384", "EdDSA", "Ed25519", "RS256", "PS256"]
_MAX_TOKEN = 8 * 1024


class AuthFailure(Exception):
    """Why a request was refused: ``status`` 401 or 403, ``error`` for ``WWW-Authenticate``."""

    def __init__(self, status: int, error: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.error = error
        self.detail = detail


class BearerVerifier:
    """Checks ``Authorization: Bearer`` access tokens issued by ``issuer`` for ``audience``.

    ``jwks`` is the issuer's public JWK set (``{"keys": [...]}``), imported once here.
    """

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        jwks: dict[str, Any],
        required_scope: str = "ooapi:read",
        leeway: int = 30,
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.required_scope = required_scope
        self.leeway = leeway
        self._keys = KeySet.import_key_set(jwks)  # type: ignore[arg-type]

    def verify(self, authorization: str | None, now: float | None = None) -> dict[str, Any]:
        """The token's claims, or ``AuthFailure``."""
        if not authorization or not authorization.startswith("Bearer "):
            raise AuthFailure(401, "invalid_request", "a Bearer access token is required")
        token = authorization[len("Bearer ") :].strip()
        if not token or len(token) > _MAX_TOKEN:
            raise AuthFailure(401, "invalid_token", "the access token is empty or too large")
        try:
            decoded = jwt.decode(token, self._keys, algorithms=_ALGORITHMS)
        except (JoseError, ValueError, KeyError, TypeError) as exc:
            raise AuthFailure(
                401, "invalid_token", f"the access token is invalid: {type(exc).__name__}"
            ) from exc
        typ = decoded.header.get("typ")
        if not isinstance(typ, str) or typ.lower() not in _ACCESS_TOKEN_TYPES:
            raise AuthFailure(401, "invalid_token", "not an access token (typ must be at+jwt)")
        claims = dict(decoded.claims)
        if claims.get("iss") != self.issuer:
            raise AuthFailure(401, "invalid_token", "the access token is from another issuer")
        aud = claims.get("aud")
        if aud != self.audience and not (isinstance(aud, list) and self.audience in aud):
            raise AuthFailure(401, "invalid_token", "the access token is not for this API (aud)")
        exp = claims.get("exp")
        current = time.time() if now is None else now
        if not isinstance(exp, int | float) or exp <= current - self.leeway:
            raise AuthFailure(401, "invalid_token", "the access token has expired")
        scope = claims.get("scope")
        if not isinstance(scope, str) or self.required_scope not in scope.split():
            raise AuthFailure(
                403, "insufficient_scope", f"the access token lacks scope {self.required_scope}"
            )
        return claims
