"""R11/R10 against fake member authorization servers on loopback, with real keys and real signatures.

Each fake AS verifies the gateway's client assertion with joserfc (as a strict member would: RFC 7523,
RFC 10070) and records what it saw, so the tests assert on what actually went over the wire.
"""

from __future__ import annotations

import asyncio
import secrets
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from joserfc import jwt
from joserfc.errors import JoseError, SecurityWarning
from joserfc.jwk import ECKey, OKPKey
from loopback_servers import FakeClock, LoopbackServer, ServeApp, StartInternal
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from contracts.errors import OutboundFailed, OutboundRefused
from gateway.outbound.fetch import OutboundPolicy, SafeFetcher
from gateway.outbound.oauth_client import AssertionKey, MemberOAuthClient, MemberOAuthConfig
from gateway.telemetry import Telemetry

CLIENT_ID = "consortium-gateway"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
METADATA_PATH = "/.well-known/oauth-authorization-server"


@dataclass
class FakeMemberAS:
    """A member's authorization server: RFC 8414 metadata and a client_credentials token endpoint."""

    clock: FakeClock
    gateway_key: ECKey | OKPKey  # the gateway's public key, as registered at the member
    issuer: str = ""
    issuer_path: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)  # overrides of the served metadata
    expires_in: int = 300
    accept: bool = True
    hold: asyncio.Event | None = None
    started: asyncio.Event = field(default_factory=asyncio.Event)
    seen: list[tuple[dict[str, Any], dict[str, Any], dict[str, str]]] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    issued: list[str] = field(default_factory=list)
    jtis: set[str] = field(default_factory=set)

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get(METADATA_PATH + self.issuer_path, self.serve_metadata),
            web.post("/token", self.token),
        ]

    async def serve_metadata(self, request: web.Request) -> web.Response:
        document = {
            "issuer": self.issuer,
            "token_endpoint": self.issuer.removesuffix(self.issuer_path) + "/token",
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "grant_types_supported": ["client_credentials"],
            **self.metadata,
        }
        return web.json_response(document)

    async def token(self, request: web.Request) -> web.Response:
        self.started.set()
        if self.hold is not None:
            await self.hold.wait()
        form = {k: str(v) for k, v in (await request.post()).items()}
        try:
            with warnings.catch_warnings():  # joserfc notes that RFC 9864 deprecates the name "EdDSA"
                warnings.filterwarnings("ignore", "EdDSA is deprecated", SecurityWarning)
                decoded = jwt.decode(
                    form["client_assertion"], self.gateway_key, algorithms=["ES256", "EdDSA"]
                )
        except (KeyError, JoseError):
            return self.reject("bad assertion")
        header, claims = dict(decoded.header), dict(decoded.claims)
        self.seen.append((header, claims, form))
        problem = self.check(header, claims, form)
        if problem or not self.accept:
            return self.reject(problem or "client not registered")
        self.jtis.add(claims["jti"])
        access_token = secrets.token_urlsafe(24)
        self.issued.append(access_token)
        return web.json_response(
            {"access_token": access_token, "token_type": "Bearer", "expires_in": self.expires_in}
        )

    def check(self, header: dict[str, Any], claims: dict[str, Any], form: dict[str, str]) -> str | None:
        if (
            form.get("grant_type") != "client_credentials"
            or form.get("client_assertion_type") != ASSERTION_TYPE
        ):
            return "grant"
        if claims.get("iss") != CLIENT_ID or claims.get("sub") != CLIENT_ID:
            return "iss/sub"
        if claims.get("aud") != self.issuer:  # RFC 10070: the issuer identifier, as the only audience
            return "aud"
        if not claims["iat"] <= self.clock() < claims["exp"] or claims["exp"] - claims["iat"] > 60:
            return "lifetime"
        if not claims.get("jti") or claims["jti"] in self.jtis:
            return "jti"
        if header.get("typ", "client-authentication+jwt") != "client-authentication+jwt":
            return "typ"
        return None

    def reject(self, why: str) -> web.Response:
        self.rejected.append(why)
        return web.json_response({"error": "invalid_client"}, status=401)


@dataclass
class Member:
    authz: FakeMemberAS
    server: LoopbackServer


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(time.time())


@pytest.fixture
def gateway_key() -> AssertionKey:
    return AssertionKey(key=ECKey.generate_key("P-256", private=True), alg="ES256", kid="gw-assertions-1")


async def start_member(serve: ServeApp, clock: FakeClock, key: AssertionKey, issuer_path: str = "") -> Member:
    public = type(key.key).import_key(key.key.as_dict(private=False))
    authz = FakeMemberAS(clock=clock, gateway_key=public, issuer_path=issuer_path)
    server = await serve(authz.routes())
    authz.issuer = server.origin + issuer_path
    return Member(authz=authz, server=server)


def fetcher_for(*members: Member, **kwargs: Any) -> SafeFetcher:
    origins = [m.server.origin for m in members]
    return SafeFetcher(OutboundPolicy.for_origins(origins, allow_insecure_loopback=True), **kwargs)


def pinned_config(member: Member, **overrides: Any) -> MemberOAuthConfig:
    settings: dict[str, Any] = {
        "member_id": "uni-avalon.ac.uk",
        "client_id": CLIENT_ID,
        "issuer": member.authz.issuer,
        "token_endpoint": member.server.url("/token"),
        "scope": "credentials:read",
        **overrides,
    }
    return MemberOAuthConfig(**settings)


@pytest.mark.parametrize(
    "key",
    [
        pytest.param(
            lambda: AssertionKey(ECKey.generate_key("P-256"), alg="ES256", kid="gw-es256"), id="ES256"
        ),
        pytest.param(
            lambda: AssertionKey(OKPKey.generate_key("Ed25519"), alg="EdDSA", kid="gw-ed"), id="EdDSA"
        ),
    ],
)
async def test_assertion_is_bound_to_the_pinned_issuer(serve: ServeApp, clock: FakeClock, key: Any) -> None:
    assertion_key: AssertionKey = key()
    member = await start_member(serve, clock, assertion_key)
    async with fetcher_for(member) as fetcher:
        client = MemberOAuthClient(pinned_config(member), assertion_key, fetcher, clock=clock)
        token = await client.access_token()
        await client.aclose()
    assert member.authz.rejected == []
    assert token == member.authz.issued[0]
    ((header, claims, form),) = member.authz.seen
    assert claims["aud"] == member.authz.issuer  # a string, the pinned issuer ...
    assert isinstance(claims["aud"], str)
    assert claims["aud"] != member.server.url("/token")  # ... never the token endpoint (authlib's default)
    assert claims["iss"] == claims["sub"] == CLIENT_ID
    assert claims["exp"] - claims["iat"] == 60
    assert len(claims["jti"]) >= 32
    assert header == {"alg": assertion_key.alg, "kid": assertion_key.kid, "typ": "client-authentication+jwt"}
    assert form["scope"] == "credentials:read"
    assert "client_secret" not in form


async def test_token_is_reused_until_30_s_before_expiry(
    serve: ServeApp, clock: FakeClock, gateway_key: AssertionKey
) -> None:
    member = await start_member(serve, clock, gateway_key)
    async with fetcher_for(member) as fetcher:
        client = MemberOAuthClient(pinned_config(member), gateway_key, fetcher, clock=clock)
        first = await client.access_token()
        clock.advance(269)
        assert await client.access_token() == first
        assert len(member.authz.seen) == 1
        clock.advance(1)  # exp - 30 s
        second = await client.access_token()
        assert second != first
        assert len(member.authz.seen) == 2
        assert await client.access_token() == second
        await client.aclose()
    jtis = [claims["jti"] for _, claims, _ in member.authz.seen]
    assert len(set(jtis)) == 2
    assert member.authz.rejected == []


async def test_concurrent_callers_share_one_token_request(
    serve: ServeApp, clock: FakeClock, gateway_key: AssertionKey
) -> None:
    member = await start_member(serve, clock, gateway_key)
    member.authz.hold = asyncio.Event()
    async with fetcher_for(member) as fetcher:
        client = MemberOAuthClient(pinned_config(member), gateway_key, fetcher, clock=clock)
        callers = [asyncio.create_task(client.access_token()) for _ in range(20)]
        await asyncio.wait_for(member.authz.started.wait(), timeout=30)  # safety net only
        member.authz.hold.set()
        tokens = await asyncio.gather(*callers)
        await client.aclose()
    assert set(tokens) == {member.authz.issued[0]}
    assert len(member.authz.seen) == 1


async def test_concurrent_callers_share_one_failure(
    serve: ServeApp, clock: FakeClock, gateway_key: AssertionKey
) -> None:
    member = await start_member(serve, clock, gateway_key)
    member.authz.accept = False
    member.authz.hold = asyncio.Event()
    async with fetcher_for(member) as fetcher:
        client = MemberOAuthClient(pinned_config(member), gateway_key, fetcher, clock=clock)
        callers = [asyncio.create_task(client.access_token()) for _ in range(20)]
        await asyncio.wait_for(member.authz.started.wait(), timeout=30)  # safety net only
        member.authz.hold.set()
        results = await asyncio.gather(*callers, return_exceptions=True)
        await client.aclose()
    assert all(isinstance(r, OutboundFailed) and r.reason == "token-rejected" for r in results)
    assert len(member.authz.seen) == 1


@pytest.mark.parametrize("issuer_path", ["", "/realms/uni-avalon"])
async def test_token_endpoint_is_discovered_from_checked_metadata(
    serve: ServeApp, clock: FakeClock, gateway_key: AssertionKey, issuer_path: str
) -> None:
    member = await start_member(serve, clock, gateway_key, issuer_path=issuer_path)
    async with fetcher_for(member) as fetcher:
        client = MemberOAuthClient(
            pinned_config(member, token_endpoint=None), gateway_key, fetcher, clock=clock
        )
        await client.access_token()
        clock.advance(300)
        await client.access_token()
        await client.aclose()
    assert member.server.requests == [METADATA_PATH + issuer_path, "/token", "/token"]
    assert all(claims["aud"] == member.authz.issuer for _, claims, _ in member.authz.seen)


async def test_metadata_naming_another_issuer_is_refused(
    serve: ServeApp, clock: FakeClock, gateway_key: AssertionKey
) -> None:
    member = await start_member(serve, clock, gateway_key)
    member.authz.metadata = {"issuer": member.authz.issuer + "/"}  # even a trailing slash is another issuer
    async with fetcher_for(member) as fetcher:
        client = MemberOAuthClient(
            pinned_config(member, token_endpoint=None), gateway_key, fetcher, clock=clock
        )
        with pytest.raises(OutboundRefused) as refused:
            await client.access_token()
    assert refused.value.reason == "issuer-mismatch"
    assert member.server.requests == [METADATA_PATH]


async def test_metadata_pointing_at_another_members_token_endpoint_is_refused(
    serve: ServeApp, clock: FakeClock, gateway_key: AssertionKey
) -> None:
    malicious = await start_member(serve, clock, gateway_key)
    victim = await start_member(serve, clock, gateway_key)
    malicious.authz.metadata = {"token_endpoint": victim.server.url("/token")}
    # Even with a fetcher that may reach both members, the token endpoint must be the member's own.
    async with fetcher_for(malicious, victim) as fetcher:
        config = pinned_config(malicious, token_endpoint=None)
        client = MemberOAuthClient(config, gateway_key, fetcher, clock=clock)
        with pytest.raises(OutboundRefused) as refused:
            await client.access_token()
    assert refused.value.reason == "origin"
    assert victim.server.requests == []
    assert malicious.server.requests == [METADATA_PATH]


async def test_an_assertion_sent_to_another_member_is_useless_there(
    serve: ServeApp, clock: FakeClock, gateway_key: AssertionKey
) -> None:
    member_a = await start_member(serve, clock, gateway_key)
    member_b = await start_member(serve, clock, gateway_key)
    # A misconfiguration sends member A's token requests to member B: the audience still says A.
    config = pinned_config(
        member_a,
        token_endpoint=member_b.server.url("/token"),
        member_origins=frozenset({member_b.server.origin}),
    )
    async with fetcher_for(member_a, member_b) as fetcher:
        client = MemberOAuthClient(config, gateway_key, fetcher, clock=clock)
        with pytest.raises(OutboundFailed) as failed:
            await client.access_token()
        await client.aclose()
    assert failed.value.reason == "token-rejected"
    assert "invalid_client" in failed.value.detail
    ((_, claims, _),) = member_b.authz.seen
    assert claims["aud"] == member_a.authz.issuer != member_b.authz.issuer
    assert member_b.authz.rejected == ["aud"]
    assert member_b.authz.issued == []


async def test_a_rejected_request_is_not_cached(
    serve: ServeApp, clock: FakeClock, gateway_key: AssertionKey
) -> None:
    member = await start_member(serve, clock, gateway_key)
    member.authz.accept = False
    async with fetcher_for(member) as fetcher:
        client = MemberOAuthClient(pinned_config(member), gateway_key, fetcher, clock=clock)
        with pytest.raises(OutboundFailed):
            await client.access_token()
        member.authz.accept = True
        assert await client.access_token() == member.authz.issued[0]
        await client.aclose()
    assert len({claims["jti"] for _, claims, _ in member.authz.seen}) == 2


async def test_token_endpoint_redirects_are_not_followed(
    serve: ServeApp, internal: StartInternal, clock: FakeClock, gateway_key: AssertionKey
) -> None:
    admin = await internal()

    async def redirect(request: web.Request) -> web.Response:
        return web.Response(status=307, headers={"Location": f"http://127.0.0.2:{admin.port}/token"})

    server = await serve([web.post("/token", redirect)])
    config = MemberOAuthConfig(
        member_id="uni-avalon.ac.uk",
        client_id=CLIENT_ID,
        issuer=server.origin,
        token_endpoint=server.url("/token"),
    )
    policy = OutboundPolicy.for_origins([server.origin], allow_insecure_loopback=True)
    async with SafeFetcher(policy) as fetcher:
        client = MemberOAuthClient(config, gateway_key, fetcher, clock=clock)
        with pytest.raises(OutboundRefused) as refused:
            await client.access_token()
        await client.aclose()
    assert refused.value.reason == "redirect"
    assert admin.connections == 0


async def test_no_token_or_assertion_reaches_spans(
    serve: ServeApp,
    clock: FakeClock,
    gateway_key: AssertionKey,
    telemetry: Telemetry,
    spans: InMemorySpanExporter,
) -> None:
    member = await start_member(serve, clock, gateway_key)
    async with fetcher_for(member, tracer=telemetry.tracer) as fetcher:
        client = MemberOAuthClient(
            pinned_config(member, token_endpoint=None), gateway_key, fetcher, clock=clock
        )
        token = await client.access_token()
        await client.aclose()
    ((_, claims, form),) = member.authz.seen
    recorded = repr([dict(span.attributes or {}) for span in spans.get_finished_spans()])
    assert member.server.url("/token") in recorded
    for secret in (token, form["client_assertion"], claims["jti"]):
        assert secret not in recorded
    assert token not in repr(client.__dict__)  # the cached token's repr hides its value
    assert repr(gateway_key) == "AssertionKey(alg='ES256', kid='gw-assertions-1')"
