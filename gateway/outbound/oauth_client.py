"""The gateway as OAuth 2.0 client of a member's authorization server (R11, R10).

``client_credentials`` (RFC 6749 section 4.4) with ``private_key_jwt`` client authentication (RFC 7523
section 2.2, as updated by RFC 10070), built on authlib's httpx integration (``AsyncOAuth2Client``), with
three changes to authlib's defaults (security.md section 2):

- ``aud`` is the member's pinned issuer identifier, a string from the consortium file, never a URL read
  from fetched metadata and never the token endpoint (RFC 10070; FAPI 2.0 client requirements). authlib
  sets ``aud`` = token endpoint URL, the pattern behind the audience-injection attacks (CVE-2025-27370/1);
- the assertion lives 60 s, not 3600 s, and carries ``typ`` (``client-authentication+jwt`` by default,
  per RFC 10070; ``JWT`` for members that insist on the older form);
- every assertion gets a fresh ``jti``: authlib adds its ``jti`` to the ``claims`` dict it was given, so a
  ``PrivateKeyJWT(claims=...)`` reused across requests would repeat the first ``jti``; here a new dict is
  built per assertion.

The HTTP exchange goes through ``SafeFetcher`` (an httpx transport over it), so token requests and the
RFC 8414 metadata fetch get the same R18 checks as every outbound call: no redirects, pinned addresses,
capped bodies. When the token endpoint is discovered, the metadata ``issuer`` must equal the configured
issuer (RFC 8414 section 3.3) and the endpoint's origin must belong to this member.

authlib 1.9.9 prefers the ``httpx2`` package and warns once at import when it falls back to ``httpx``, the
client this project depends on; that one warning is silenced here and nothing else about the fallback
changes. The transport is built on whichever of the two authlib chose.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from authlib.deprecate import AuthlibDeprecationWarning
from authlib.integrations.base_client import OAuthError
from authlib.oauth2.rfc7523 import PrivateKeyJWT, private_key_jwt_sign
from joserfc.errors import SecurityWarning
from joserfc.jwk import ECKey, OKPKey
from yarl import URL

from contracts.errors import OutboundFailed, OutboundRefused
from gateway.outbound.fetch import SafeFetcher, canonical_origin

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "The httpx module is deprecated", AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client
    from authlib.integrations.httpx_client import oauth2_client as _authlib_httpx

__all__ = ["AssertionKey", "MemberOAuthClient", "MemberOAuthConfig", "SafeTransport", "metadata_url"]

_http: Any = _authlib_httpx.httpx2  # the httpx module authlib uses: httpx2 if installed, else httpx

MAX_ASSERTION_LIFETIME = 60  # R11
CLIENT_AUTH_TYP = "client-authentication+jwt"  # RFC 10070
_METADATA_MAX_BYTES = 64 * 1024
_TOKEN_MAX_BYTES = 64 * 1024
_MAX_ACCESS_TOKEN = 8 * 1024
_ERROR_CODE = re.compile(r"[a-z_]{1,64}")
# Which key fits which algorithm (RFC 7518 section 3.4; RFC 8037 section 3.1; RFC 9864).
_KEY_FOR_ALG: dict[str, tuple[type[ECKey | OKPKey], str]] = {
    "ES256": (ECKey, "P-256"),
    "EdDSA": (OKPKey, "Ed25519"),
    "Ed25519": (OKPKey, "Ed25519"),
}
# Headers that describe one hop and must not be copied from the fetcher's response into httpx's.
_HOP_HEADERS = frozenset({"transfer-encoding", "connection", "keep-alive", "content-encoding"})


@dataclass(frozen=True, slots=True)
class AssertionKey:
    """The gateway's private key for client assertions (R12: used for nothing else), with its JWS
    ``alg`` and the ``kid`` the members know it by.

    ``alg`` is ES256 (P-256 key) or, for an Ed25519 key, ``Ed25519`` (RFC 9864) or ``EdDSA`` (RFC 8037,
    which RFC 9864 deprecates but most members still expect).
    """

    key: ECKey | OKPKey
    alg: str
    kid: str

    def __post_init__(self) -> None:
        expected = _KEY_FOR_ALG.get(self.alg)
        if expected is None:
            raise ValueError(f"client assertions use ES256 or EdDSA, not {self.alg!r}")
        key_class, curve = expected
        if not isinstance(self.key, key_class) or self.key.curve_name != curve:
            raise ValueError(f"{self.alg} needs a {curve} key")
        if not self.key.is_private:
            raise ValueError("an assertion key must be a private key")

    def __repr__(self) -> str:  # never print key material
        return f"AssertionKey(alg={self.alg!r}, kid={self.kid!r})"


@dataclass(frozen=True, slots=True)
class MemberOAuthConfig:
    """How the gateway is registered at one member's authorization server.

    ``issuer`` is the member's issuer identifier as pinned in the consortium file. ``token_endpoint``
    is pinned too when known; otherwise it is read from the member's RFC 8414 metadata. Either way its
    origin must be the issuer's or one of ``member_origins`` (R10).
    """

    member_id: str
    client_id: str
    issuer: str
    token_endpoint: str | None = None
    member_origins: frozenset[str] = frozenset()
    scope: str | None = None
    assertion_typ: str = CLIENT_AUTH_TYP
    assertion_lifetime: int = MAX_ASSERTION_LIFETIME
    refresh_margin: float = 30.0  # R11: a token is used until exp - 30 s
    default_token_lifetime: int = 60  # when the member's answer has no expires_in

    def __post_init__(self) -> None:
        if not 0 < self.assertion_lifetime <= MAX_ASSERTION_LIFETIME:
            raise ValueError("R11: client assertions live at most 60 s")
        if not self.issuer or URL(self.issuer).query_string or URL(self.issuer).fragment:
            raise ValueError("the issuer is an http(s) URL without query or fragment (RFC 8414 section 2)")


def metadata_url(issuer: str) -> str:
    """Where RFC 8414 section 3.1 puts an issuer's metadata: the well-known segment goes before the path."""
    parsed = URL(issuer)
    path = parsed.raw_path.rstrip("/")
    return str(parsed.with_path("/.well-known/oauth-authorization-server" + path, encoded=True))


class SafeTransport(_http.AsyncBaseTransport):  # type: ignore[misc]
    """An httpx transport that sends every request through a ``SafeFetcher`` (R18)."""

    def __init__(self, fetcher: SafeFetcher, *, max_bytes: int = _TOKEN_MAX_BYTES) -> None:
        self._fetcher = fetcher
        self._max_bytes = max_bytes

    async def handle_async_request(self, request: Any) -> Any:
        body: bytes = await request.aread()
        response = await self._fetcher.request(
            request.method,
            str(request.url),
            headers=dict(request.headers),
            body=body or None,
            max_bytes=self._max_bytes,
        )
        headers = [(k, v) for k, v in response.headers.items() if k.lower() not in _HOP_HEADERS]
        return _http.Response(response.status, headers=headers, content=response.body)


class _IssuerAudiencePrivateKeyJWT(PrivateKeyJWT):  # type: ignore[misc]
    """authlib's ``private_key_jwt`` with ``aud`` = issuer, a short life and a fresh ``jti`` each time."""

    name = "private_key_jwt"

    def __init__(self, config: MemberOAuthConfig, key: AssertionKey, clock: Callable[[], float]) -> None:
        super().__init__(token_endpoint=None, alg=key.alg)
        self._config = config
        self._key = key
        self._clock = clock

    def sign(self, auth: Any, token_endpoint: str) -> str:
        # ``token_endpoint`` is deliberately unused: authlib would make it the audience.
        with warnings.catch_warnings():
            # joserfc flags the RFC 8037 name "EdDSA" as deprecated by RFC 9864; it is chosen per member
            # (AssertionKey), for members that do not know "Ed25519" yet. The signature is the same.
            warnings.filterwarnings("ignore", "EdDSA is deprecated", SecurityWarning)
            assertion: str = private_key_jwt_sign(
                self._key.key,
                client_id=auth.client_id,
                token_endpoint=self._config.issuer,  # authlib's name for the value it puts in ``aud``
                alg=self._key.alg,
                claims={"jti": secrets.token_urlsafe(32)},
                header={"kid": self._key.kid, "typ": self._config.assertion_typ},
                issued_at=int(self._clock()),
                expires_in=self._config.assertion_lifetime,
            )
        return assertion


@dataclass(frozen=True, slots=True)
class _Token:
    value: str = ""
    refresh_at: float = 0.0

    def __repr__(self) -> str:  # never print the token
        return f"_Token(refresh_at={self.refresh_at})"


class MemberOAuthClient:
    """One member's OAuth client: fetches, caches and shares the gateway's access token there (R11).

    ``fetcher`` is this member's ``SafeFetcher`` (its policy allows the member's origins); the caller owns
    it and closes it. ``clock`` is wall-clock seconds (assertion ``iat``/``exp`` and token expiry).
    """

    def __init__(
        self,
        config: MemberOAuthConfig,
        key: AssertionKey,
        fetcher: SafeFetcher,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self._key = key
        self._fetcher = fetcher
        self._clock = clock
        self._allowed_origins = frozenset(canonical_origin(o) for o in config.member_origins) | {
            canonical_origin(config.issuer)
        }
        self._inflight: asyncio.Task[_Token] | None = None
        self._token: _Token | None = None
        self._endpoint: str | None = None
        self._client: Any = None

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def access_token(self) -> str:
        """A valid access token, fetched once and shared until ``exp - refresh_margin``.

        Concurrent callers share the one token request in flight, and its failure: a member that is down
        sees one request per wave of callers, not one per caller.
        """
        token = self._token
        if token is not None and self._clock() < token.refresh_at:
            return token.value
        if self._inflight is None:
            self._inflight = asyncio.get_running_loop().create_task(self._fetch_token())
            self._inflight.add_done_callback(self._settle)
        # Shielded: a caller that gives up must not cancel the request the other callers are waiting for.
        token = await asyncio.shield(self._inflight)
        return token.value

    def _settle(self, task: asyncio.Task[_Token]) -> None:
        self._inflight = None
        if not task.cancelled() and task.exception() is None:
            self._token = task.result()

    async def token_endpoint(self) -> str:
        """The pinned token endpoint, or the one the member's metadata names, once checked (R10)."""
        if self._endpoint is None:
            endpoint = self.config.token_endpoint
            if endpoint is None:
                endpoint = await self._discover()
            self._endpoint = self._check_endpoint(endpoint)
        return self._endpoint

    async def _discover(self) -> str:
        metadata = await self._fetcher.get_json(
            metadata_url(self.config.issuer), max_bytes=_METADATA_MAX_BYTES
        )
        if not isinstance(metadata, dict):
            raise OutboundFailed("the member's metadata is not a JSON object", reason="malformed")
        if metadata.get("issuer") != self.config.issuer:  # RFC 8414 section 3.3: exact string comparison
            raise OutboundRefused("the member's metadata names another issuer", reason="issuer-mismatch")
        endpoint = metadata.get("token_endpoint")
        if not isinstance(endpoint, str):
            raise OutboundFailed("the member's metadata has no token endpoint", reason="malformed")
        return endpoint

    def _check_endpoint(self, endpoint: str) -> str:
        try:
            parsed = URL(endpoint)
            origin = canonical_origin(parsed)
        except ValueError as exc:
            raise OutboundRefused("the token endpoint is not a valid URL", reason="url") from exc
        if parsed.raw_user is not None or "@" in (parsed.raw_authority or "") or parsed.fragment:
            raise OutboundRefused("the token endpoint has userinfo or a fragment", reason="url")
        if origin not in self._allowed_origins:
            raise OutboundRefused("the token endpoint is not on this member's origins", reason="origin")
        return endpoint

    def _oauth_client(self) -> Any:
        if self._client is None:
            client = AsyncOAuth2Client(
                client_id=self.config.client_id,
                token_endpoint_auth_method=_IssuerAudiencePrivateKeyJWT.name,
                scope=self.config.scope,
                transport=SafeTransport(self._fetcher),
                follow_redirects=False,
                trust_env=False,
            )
            client.register_client_auth_method(
                _IssuerAudiencePrivateKeyJWT(self.config, self._key, self._clock)
            )
            self._client = client
        return self._client

    async def _fetch_token(self) -> _Token:
        endpoint = await self.token_endpoint()
        started = self._clock()
        try:
            answer = await self._oauth_client().fetch_token(endpoint, grant_type="client_credentials")
        except OAuthError as exc:
            code = exc.error if isinstance(exc.error, str) and _ERROR_CODE.fullmatch(exc.error) else "unknown"
            raise OutboundFailed(
                f"the member refused the token request ({code})", reason="token-rejected"
            ) from exc
        except _http.HTTPStatusError as exc:
            status = exc.response.status_code
            raise OutboundFailed(
                f"the token endpoint answered {status}", reason="status", upstream_status=status
            ) from exc
        except ValueError as exc:
            raise OutboundFailed("the token response is not a JSON object", reason="malformed") from exc
        return self._token_from(answer, started)

    def _token_from(self, answer: Any, started: float) -> _Token:
        value = answer.get("access_token")
        token_type = answer.get("token_type")
        if not isinstance(value, str) or not value or len(value) > _MAX_ACCESS_TOKEN:
            raise OutboundFailed("the token response has no usable access_token", reason="malformed")
        if not isinstance(token_type, str) or token_type.lower() != "bearer":
            raise OutboundFailed("the token response is not a Bearer token", reason="malformed")
        expires_in = answer.get("expires_in", self.config.default_token_lifetime)
        if isinstance(expires_in, str) and expires_in.isdigit():
            expires_in = int(expires_in)
        if not isinstance(expires_in, int) or isinstance(expires_in, bool) or expires_in <= 0:
            raise OutboundFailed("the token response has an invalid expires_in", reason="malformed")
        # Measured from when the request was sent, so that the time in flight counts against the token.
        return _Token(value=value, refresh_at=started + expires_in - self.config.refresh_margin)
