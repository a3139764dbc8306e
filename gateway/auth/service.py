"""The authorisation server's decisions: issue, introspect and revoke tokens.

``AuthService`` is built once per process at start-up and holds everything the AS and the RS need: the
trust snapshot (clients, keys, revocations), the token validator and its cache, and the settings.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import asyncpg
import msgspec

from contracts.errors import ServiceUnavailable
from contracts.scopes import SCOPES
from gateway.auth import store
from gateway.auth.errors import (
    InvalidClient,
    InvalidGrantRequest,
    InvalidScope,
    InvalidToken,
    UnauthorizedClient,
    UnsupportedGrantType,
)
from gateway.auth.replay import ReplayStore
from gateway.auth.rfc7523 import AuthenticatedClient, ClientKeySource, authenticate_client
from gateway.auth.rfc9068 import Principal, TokenValidator, issue_access_token
from gateway.auth.trust import TrustStore
from gateway.config import Settings

__all__ = ["AuthService", "IntrospectionResponse", "TokenResponse"]


class TokenResponse(msgspec.Struct, kw_only=True):
    """RFC 6749 section 5.1."""

    access_token: str
    token_type: str
    expires_in: int
    scope: str


class IntrospectionResponse(msgspec.Struct, kw_only=True, omit_defaults=True):
    """RFC 7662 section 2.2. Inactive tokens get ``{"active": false}`` and nothing else."""

    active: bool
    scope: str | None = None
    client_id: str | None = None
    sub: str | None = None
    iss: str | None = None
    aud: str | None = None
    exp: int | None = None
    iat: int | None = None
    jti: str | None = None
    token_type: str | None = None
    institution: str | None = None


@dataclass
class AuthService:
    settings: Settings
    pool: asyncpg.Pool
    trust: TrustStore
    validator: TokenValidator
    key_source: ClientKeySource
    replay: ReplayStore

    async def authenticate(self, form: dict[str, str], authorization: str | None) -> AuthenticatedClient:
        """private_key_jwt only (R1): a secret, Basic auth or no assertion at all is ``invalid_client``."""
        if authorization is not None or "client_secret" in form:
            raise InvalidClient("only private_key_jwt client authentication is accepted")
        assertion = form.get("client_assertion")
        if not assertion:
            raise InvalidClient("client authentication required (private_key_jwt)")
        return await authenticate_client(
            assertion=assertion,
            assertion_type=form.get("client_assertion_type"),
            form_client_id=form.get("client_id"),
            issuer=self.settings.issuer,
            clients=self.trust.snapshot.clients,
            key_source=self.key_source,
            consume_jti=self.replay.consume,
        )

    async def token(self, form: dict[str, str], authorization: str | None) -> TokenResponse:
        grant_type = form.get("grant_type")
        if not grant_type:
            raise InvalidGrantRequest("grant_type is required")
        # Authenticate before saying anything about grants or scopes to an unknown caller.
        authenticated = await self.authenticate(form, authorization)
        if grant_type != "client_credentials":
            raise UnsupportedGrantType("only the client_credentials grant is supported")
        client = authenticated.client
        requested = form.get("scope")
        scopes = sorted(client.scopes) if requested is None else sorted(set(requested.split()))
        unknown = [s for s in scopes if s not in SCOPES]
        if unknown:
            raise InvalidScope(f"unknown scope: {' '.join(unknown)}")
        not_granted = [s for s in scopes if s not in client.scopes]
        if not_granted:
            raise InvalidScope(f"scope not registered for this client: {' '.join(not_granted)}")
        if not scopes:
            raise InvalidScope("no scope requested")
        signer = self.trust.snapshot.keys.signers.get("access-token")
        if signer is None:  # only before the first trust refresh of an unmigrated database
            raise ServiceUnavailable("the gateway is not ready to issue tokens; retry shortly")
        token, _ = issue_access_token(
            signer=signer,
            issuer=self.settings.issuer,
            audience=self.settings.token_audience,
            client_id=client.client_id,
            institution=client.member_id,  # R7: from the registration, never from the request
            scopes=scopes,
            ttl=self.settings.access_token_ttl,
        )
        return TokenResponse(
            access_token=token,
            token_type="Bearer",
            expires_in=self.settings.access_token_ttl,
            scope=" ".join(scopes),
        )

    def _inspect(self, token: str) -> Principal | None:
        try:
            return self.validator.validate(token, self.trust.snapshot)
        except InvalidToken:
            return None

    async def introspect(self, form: dict[str, str], authorization: str | None) -> IntrospectionResponse:
        """RFC 7662 (R9): only clients with the ``introspect`` capability; only their institution's tokens."""
        caller = (await self.authenticate(form, authorization)).client
        if "introspect" not in caller.capabilities:
            raise UnauthorizedClient("this client may not introspect tokens")
        principal = self._inspect(form.get("token", ""))
        if principal is None or principal.institution != caller.member_id:
            return IntrospectionResponse(active=False)  # byte-identical for unknown and not-yours
        return IntrospectionResponse(
            active=True,
            scope=" ".join(sorted(principal.scopes)),
            client_id=principal.client_id,
            sub=principal.client_id,
            iss=self.settings.issuer,
            aud=self.settings.token_audience,
            exp=int(principal.expires_at),
            iat=int(principal.issued_at),
            jti=principal.jti,
            token_type="Bearer",
            institution=principal.institution,
        )

    async def revoke(self, form: dict[str, str], authorization: str | None) -> None:
        """RFC 7009 (R9): a client revokes only its own tokens; anything else is a silent 200."""
        caller = (await self.authenticate(form, authorization)).client
        principal = self._inspect(form.get("token", ""))
        if principal is None or principal.client_id != caller.client_id:
            return
        async with self.pool.acquire(timeout=self.settings.db_acquire_timeout) as conn:
            await store.revoke_token(
                conn,
                principal.jti,
                principal.client_id,
                dt.datetime.fromtimestamp(principal.expires_at, dt.UTC),
            )
        # This process stops accepting it at once; the others at their next refresh.
        snapshot = self.trust.snapshot
        self.trust.snapshot = replace(snapshot, revoked=snapshot.revoked | {principal.jti})
