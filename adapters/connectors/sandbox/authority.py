"""The sandbox's authorization server: how a member's registry would let the gateway in (R11 seen from
the member's side).

``POST /oauth/token`` takes ``grant_type=client_credentials`` with ``private_key_jwt`` client
authentication (RFC 7523 section 2.2): the assertion must be signed by a key of the registered client's
JWK set (inline, or fetched from its ``jwks_uri`` and refetched once for an unknown ``kid``, which is how a
rotated gateway key gets in), with ``iss`` = ``sub`` = the client id, ``aud`` = this issuer (the only
audience accepted, as RFC 10070 asks), a lifetime of at most 60 s and a ``jti`` never seen before. The
answer is an RFC 9068 access token signed with the sandbox's own Ed25519 key, which is what the sandbox's
``BearerVerifier`` then accepts. ``GET /.well-known/oauth-authorization-server`` serves RFC 8414 metadata.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from typing import Any

import aiohttp
from aiohttp import web
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, OKPKey
from joserfc.jws import extract_compact

__all__ = ["ASSERTION_TYPE", "SandboxAuthority"]

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
_ASSERTION_ALGS = ["ES256", "EdDSA", "Ed25519", "PS256", "RS256"]
_MAX_ASSERTION_LIFETIME = 60
_LEEWAY = 30
_MAX_JTIS = 100_000


class _Refused(Exception):
    def __init__(self, error: str, detail: str) -> None:
        super().__init__(detail)
        self.error = error
        self.detail = detail


class SandboxAuthority:
    """Issues access tokens for the sandbox's API to one registered client (the gateway)."""

    def __init__(
        self,
        *,
        issuer: str,
        client_id: str,
        client_jwks: dict[str, Any] | None = None,
        client_jwks_uri: str | None = None,
        scope: str = "ooapi:read",
        token_lifetime: int = 300,
    ) -> None:
        self.issuer = issuer
        self.audience = issuer
        self.client_id = client_id
        self.scope = scope
        self.token_lifetime = token_lifetime
        self._client_jwks_uri = client_jwks_uri
        # No keys yet is allowed: ``trust_client_keys`` adds them once the client has published them.
        self._client_keys = (
            KeySet.import_key_set(client_jwks)  # type: ignore[arg-type]
            if client_jwks and client_jwks.get("keys")
            else None
        )
        self._key = OKPKey.generate_key("Ed25519", private=True)
        self._kid = f"sandbox-{self._key.thumbprint()[:16]}"
        self._seen: OrderedDict[str, float] = OrderedDict()
        self.issued = 0

    def trust_client_keys(self, jwks: dict[str, Any]) -> None:
        """Replace the client's public keys (e.g. once the gateway has published them)."""
        self._client_keys = KeySet.import_key_set(jwks)  # type: ignore[arg-type]

    @property
    def jwks(self) -> dict[str, Any]:
        """The public key set the sandbox's bearer check trusts."""
        return {"keys": [self._key.as_dict(private=False, kid=self._kid, alg="EdDSA", use="sig")]}

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/oauth/token", self._token)
        app.router.add_get("/.well-known/oauth-authorization-server", self._metadata)

    async def _metadata(self, request: web.Request) -> web.Response:
        base = f"{request.scheme}://{request.host}"
        return web.json_response(
            {
                "issuer": self.issuer,
                "token_endpoint": f"{base}/oauth/token",
                "grant_types_supported": ["client_credentials"],
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
                "token_endpoint_auth_signing_alg_values_supported": _ASSERTION_ALGS,
            }
        )

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        try:
            if form.get("grant_type") != "client_credentials":
                raise _Refused("unsupported_grant_type", "only client_credentials is supported")
            if form.get("client_assertion_type") != ASSERTION_TYPE:
                raise _Refused("invalid_client", "private_key_jwt client authentication is required")
            assertion = form.get("client_assertion")
            if not isinstance(assertion, str) or not assertion or len(assertion) > 8192:
                raise _Refused("invalid_client", "no client assertion")
            await self._check_assertion(assertion)
        except _Refused as refused:
            status = 400 if refused.error == "unsupported_grant_type" else 401
            return web.json_response(
                {"error": refused.error, "error_description": refused.detail}, status=status
            )
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": self.client_id,
            "client_id": self.client_id,
            "scope": self.scope,
            "iat": now,
            "exp": now + self.token_lifetime,
            "jti": secrets.token_urlsafe(16),
        }
        token = jwt.encode(
            {"alg": "EdDSA", "typ": "at+jwt", "kid": self._kid}, claims, self._key, algorithms=["EdDSA"]
        )
        self.issued += 1
        return web.json_response(
            {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": self.token_lifetime,
                "scope": self.scope,
            },
            headers={"Cache-Control": "no-store"},
        )

    async def _check_assertion(self, assertion: str) -> None:
        try:
            decoded = jwt.decode(assertion, await self._keys(assertion), algorithms=_ASSERTION_ALGS)
        except (JoseError, ValueError, KeyError, TypeError) as exc:
            raise _Refused(
                "invalid_client", f"the client assertion is invalid: {type(exc).__name__}"
            ) from exc
        claims = decoded.claims
        now = time.time()
        if claims.get("iss") != self.client_id or claims.get("sub") != self.client_id:
            raise _Refused("invalid_client", "iss and sub must be the registered client id")
        if claims.get("aud") != self.issuer:  # a string, and only this issuer (RFC 10070)
            raise _Refused("invalid_client", "the assertion's audience must be this issuer, alone")
        exp, iat, jti = claims.get("exp"), claims.get("iat", now), claims.get("jti")
        if not isinstance(exp, int | float) or exp <= now - _LEEWAY:
            raise _Refused("invalid_client", "the assertion has expired")
        if not isinstance(iat, int | float) or exp - iat > _MAX_ASSERTION_LIFETIME:
            raise _Refused("invalid_client", "the assertion lives longer than 60 s")
        if not isinstance(jti, str) or not jti:
            raise _Refused("invalid_client", "the assertion has no jti")
        self._forget(now)
        if jti in self._seen:
            raise _Refused("invalid_client", "the assertion was already used")
        self._seen[jti] = float(exp) + _LEEWAY

    async def _keys(self, assertion: str) -> KeySet:
        if self._client_keys is not None and self._knows(assertion, self._client_keys):
            return self._client_keys
        if self._client_jwks_uri is None:
            if self._client_keys is None:
                raise _Refused("invalid_client", "no keys are registered for the client yet")
            return self._client_keys
        timeout = aiohttp.ClientTimeout(total=5)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(self._client_jwks_uri, allow_redirects=False) as response,
        ):
            if response.status != 200:
                raise _Refused("invalid_client", "the client's key set could not be fetched")
            body = await response.json(content_type=None)
        self._client_keys = KeySet.import_key_set(body)
        return self._client_keys

    @staticmethod
    def _knows(assertion: str, keys: KeySet) -> bool:
        try:
            kid = extract_compact(assertion.encode()).protected.get("kid")
        except (JoseError, ValueError, UnicodeError):
            return True  # let decode report it
        return kid is None or any(k.kid == kid for k in keys.keys)

    def _forget(self, now: float) -> None:
        while self._seen:
            until = next(iter(self._seen.values()))
            if until > now and len(self._seen) < _MAX_JTIS:
                break
            self._seen.popitem(last=False)
