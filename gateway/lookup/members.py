"""The members the gateway can ask: one connector, HTTP session, OAuth client and policy per member.

Built from the registry (``members`` table) and kept in step with it: ``Federation.members()`` reloads
the registry at most every ``members_refresh_interval`` seconds and rebuilds only the members whose entry
(or the gateway's client-assertion key) changed, so a breaker's state survives unrelated changes.

Per member (R11, R26): one HTTP client (``member_http_client``) whose connection limit is the member's
bulkhead size, one ``MemberOAuthClient`` (the gateway's private_key_jwt client at the member's
authorization server, its token cached until shortly before expiry) and one ``MemberPolicy`` (breaker
with off-path probes, bulkhead, retry budget). A member whose connector is not installed, or whose
settings are unusable, is left out and logged once; it shows as an ``error`` outcome with reason
``unconfigured``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

import asyncpg
import msgspec
from joserfc.jwk import ECKey, OKPKey
from opentelemetry.trace import Tracer

from adapters.connectors.member_client import new_member_client
from adapters.frameworks import FrameworkRegistry
from contracts.connectors import (
    CONNECTOR_ENTRY_POINT_GROUP,
    MemberHttpClient,
    RegistryConnector,
    RegistryConnectorFactory,
)
from contracts.errors import GatewayError
from contracts.members import Member, MemberConnector
from gateway.auth.keys import SigningKey
from gateway.auth.trust import TrustStore
from gateway.config import Settings
from gateway.federation import Bulkhead, CircuitBreaker, MemberPolicy, RetryBudget, health_probe
from gateway.outbound.fetch import OutboundPolicy, SafeFetcher, canonical_origin
from gateway.outbound.oauth_client import AssertionKey, MemberOAuthClient, MemberOAuthConfig

__all__ = ["Federation", "MemberRuntime"]

_log = logging.getLogger(__name__)


LOAD_MEMBERS = """
SELECT id, name, country, framework_id, connector_id, connector_settings, endpoints, status
FROM members WHERE status = 'active' ORDER BY id
"""


@dataclass(slots=True)
class MemberRuntime:
    """Everything the gateway holds to call one member."""

    member: Member
    connector: RegistryConnector
    policy: MemberPolicy
    session: MemberHttpClient
    fetcher: SafeFetcher | None
    oauth: MemberOAuthClient | None
    fingerprint: bytes

    async def aclose(self) -> None:
        await self.policy.aclose()
        if self.oauth is not None:
            await self.oauth.aclose()
        if self.fetcher is not None:
            await self.fetcher.aclose()
        await self.session.close()


@dataclass(slots=True)
class Federation:
    """The per-member runtimes of one gateway process."""

    pool: asyncpg.Pool
    settings: Settings
    trust: TrustStore
    tracer: Tracer
    frameworks: FrameworkRegistry
    factories: Mapping[str, RegistryConnectorFactory] = field(default_factory=dict)
    _runtimes: dict[str, MemberRuntime] = field(default_factory=dict)
    _unconfigured: dict[str, str] = field(default_factory=dict)
    _loaded_at: float = float("-inf")
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def __post_init__(self) -> None:
        if not self.factories:
            self.factories = {ep.name: ep.load() for ep in entry_points(group=CONNECTOR_ENTRY_POINT_GROUP)}

    async def members(self) -> dict[str, MemberRuntime]:
        """The active members' runtimes (reloaded from the registry when the last load is stale)."""
        if time.monotonic() - self._loaded_at >= self.settings.members_refresh_interval:
            async with self._lock:
                if time.monotonic() - self._loaded_at >= self.settings.members_refresh_interval:
                    await self._reload()
        return self._runtimes

    @property
    def unconfigured(self) -> Mapping[str, str]:
        """Active members that cannot be called, with why (a short code)."""
        return self._unconfigured

    async def aclose(self) -> None:
        runtimes, self._runtimes = self._runtimes, {}
        for runtime in runtimes.values():
            await runtime.aclose()

    async def _reload(self) -> None:
        async with self.pool.acquire(timeout=self.settings.db_acquire_timeout) as conn:
            rows = await conn.fetch(LOAD_MEMBERS)
        signer = self.trust.snapshot.keys.signers.get("client-assertion")
        kid = signer.kid.encode() if signer is not None else b""
        wanted: dict[str, tuple[asyncpg.Record, bytes]] = {}
        for row in rows:
            print_ = msgspec.json.encode(list(row.values()), enc_hook=str) + kid
            wanted[row["id"]] = (row, print_)
        for member_id in list(self._runtimes):
            if member_id not in wanted or self._runtimes[member_id].fingerprint != wanted[member_id][1]:
                await self._runtimes.pop(member_id).aclose()
        unconfigured: dict[str, str] = {}
        for member_id, (row, print_) in wanted.items():
            if member_id in self._runtimes:
                continue
            try:
                self._runtimes[member_id] = self._build(row, print_, signer)
            except (GatewayError, ValueError, TypeError, KeyError) as exc:
                reason = getattr(exc, "detail", None) or str(exc)
                if self._unconfigured.get(member_id) != reason:
                    _log.warning("member not callable", extra={"member": member_id, "reason": reason})
                unconfigured[member_id] = reason
        self._unconfigured = unconfigured
        self._loaded_at = time.monotonic()

    def _build(self, row: asyncpg.Record, fingerprint: bytes, signer: SigningKey | None) -> MemberRuntime:
        settings: dict[str, Any] = msgspec.json.decode(row["connector_settings"])
        endpoints: dict[str, Any] = msgspec.json.decode(row["endpoints"])
        member = Member(
            id=row["id"],
            name=row["name"],
            country=row["country"],
            framework=row["framework_id"],
            connector=MemberConnector(id=row["connector_id"], settings=settings),
            status=row["status"],
        )
        factory = self.factories.get(member.connector.id)
        if factory is None:
            raise ValueError(f"connector {member.connector.id!r} is not installed")
        limit = self.settings.member_max_in_flight
        session = new_member_client(self.settings.member_http_client, limit)
        fetcher: SafeFetcher | None = None
        oauth: MemberOAuthClient | None = None
        try:
            if endpoints.get("issuer"):
                fetcher, oauth = self._oauth(member, endpoints, settings, signer)
                token_provider = oauth.access_token
            else:  # a member that asks for no token (a public registry): nothing to send
                token_provider = _no_token
            connector = factory(
                member,
                session=session,
                token_provider=token_provider,
                registry=self.frameworks,
                tracer=self.tracer,  # the member's HTTP spans go where the gateway's spans go
            )
        except BaseException:
            asyncio.get_running_loop().create_task(session.close())
            raise
        policy = MemberPolicy(
            member=member.id,
            connector=member.connector.id,
            timeout=self.settings.lookup_deadline,
            breaker=CircuitBreaker(
                member.id,
                probe=health_probe(connector),
                failure_threshold=self.settings.member_breaker_failures,
                open_for=self.settings.member_breaker_open_for,
                probe_timeout=min(2.0, self.settings.lookup_deadline),
            ),
            bulkhead=Bulkhead(member.id, max_in_flight=limit, max_queue_wait=self.settings.member_queue_wait),
            budget=RetryBudget(),
            attempts=self.settings.member_attempts,
        )
        return MemberRuntime(member, connector, policy, session, fetcher, oauth, fingerprint)

    def _oauth(
        self,
        member: Member,
        endpoints: dict[str, Any],
        settings: dict[str, Any],
        signer: SigningKey | None,
    ) -> tuple[SafeFetcher, MemberOAuthClient]:
        if signer is None:
            raise ValueError("the gateway has no client-assertion key yet")
        origins = {canonical_origin(endpoints["issuer"])}
        if endpoints.get("token"):
            origins.add(canonical_origin(endpoints["token"]))
        fetcher = SafeFetcher(
            OutboundPolicy.for_origins(
                origins, allow_insecure_loopback=self.settings.outbound_allow_loopback
            ),
            tracer=self.tracer,
            connection_limit=2,
        )
        config = MemberOAuthConfig(
            member_id=member.id,
            client_id=str(settings.get("client_id") or self.settings.issuer),
            issuer=endpoints["issuer"],
            token_endpoint=endpoints.get("token"),
            member_origins=frozenset(origins),
            scope=settings.get("scope"),
        )
        if not isinstance(signer.key, ECKey | OKPKey):
            raise ValueError("the client-assertion key must be an EC or OKP key")
        assertion_key = AssertionKey(key=signer.key, alg=signer.alg, kid=signer.kid)
        return fetcher, MemberOAuthClient(config, assertion_key, fetcher)


async def _no_token() -> str:
    return ""
