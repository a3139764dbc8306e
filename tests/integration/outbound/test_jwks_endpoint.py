"""R5 against a real JWKS endpoint on loopback: fetches are counted at the server, signatures are real."""

from __future__ import annotations

import asyncio
import itertools
import random
import string
import time
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from joserfc import jws, jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import ECKey
from loopback_servers import FakeClock, LoopbackServer, ServeApp

from contracts.errors import UnknownSigningKey
from gateway.outbound.fetch import OutboundPolicy, SafeFetcher
from gateway.outbound.jwks import JwksCache

OWNER = "uni-avalon.ac.uk"
KID_CHARS = string.ascii_letters + string.digits + "._:-"


@dataclass
class JwksEndpoint:
    """A member's JWKS: which keys it publishes, whether it is failing, and when it was fetched."""

    clock: FakeClock
    keys: list[ECKey] = field(default_factory=list)
    status: int = 200
    fetched_at: list[float] = field(default_factory=list)
    hold: asyncio.Event | None = None
    started: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.Response:
        self.fetched_at.append(self.clock())
        self.started.set()
        if self.hold is not None:
            await self.hold.wait()
        if self.status != 200:
            return web.json_response({"error": "unavailable"}, status=self.status)
        return web.json_response({"keys": [key.as_dict(private=False) for key in self.keys]})


@dataclass
class Setup:
    endpoint: JwksEndpoint
    server: LoopbackServer
    cache: JwksCache
    clock: FakeClock

    @property
    def uri(self) -> str:
        return self.server.url("/jwks")


@pytest.fixture
async def setup(serve: ServeApp) -> Setup:
    clock = FakeClock(1_000.0)
    endpoint = JwksEndpoint(clock=clock, keys=[signing_key("k1")])
    server = await serve([web.get("/jwks", endpoint.handle)])
    policy = OutboundPolicy.for_origins([server.origin], allow_insecure_loopback=True)
    fetcher = SafeFetcher(policy)
    yield Setup(endpoint=endpoint, server=server, cache=JwksCache(fetcher, clock=clock), clock=clock)
    await fetcher.aclose()


def signing_key(kid: str) -> ECKey:
    return ECKey.generate_key("P-256", parameters={"kid": kid, "alg": "ES256", "use": "sig"})


def sign(key: ECKey, kid: str | None = None, **extra_header: object) -> str:
    header = {"alg": "ES256", "kid": kid or key.kid, **extra_header}
    return jwt.encode(header, {"iss": OWNER, "iat": int(time.time())}, key)


async def verify(setup: Setup, token: str) -> dict[str, object]:
    """What a verifier does: key from the header's kid and alg only, then an explicit algorithm list."""
    header = jws.extract_compact(token.encode()).protected
    key = await setup.cache.key_for_header(OWNER, setup.uri, header)
    return dict(jwt.decode(token, key, algorithms=["ES256"]).claims)


async def test_random_kids_cause_at_most_one_fetch_per_cooldown(setup: Setup) -> None:
    k1 = setup.endpoint.keys[0]
    rng = random.Random(20260501)
    for i in range(1_000):  # 1,000 tokens over 100 s
        kid = "".join(rng.choices(KID_CHARS, k=rng.randint(1, 128)))
        with pytest.raises(UnknownSigningKey):
            await setup.cache.key_for(OWNER, setup.uri, kid, alg="ES256")
        if i % 100 == 0:
            assert (await verify(setup, sign(k1)))["iss"] == OWNER  # the real key keeps working
        setup.clock.advance(0.1)
    fetched = setup.endpoint.fetched_at
    assert 1 <= len(fetched) <= 4  # 100 s / 30 s cooldown
    assert all(later - earlier >= 30 for earlier, later in itertools.pairwise(fetched))


async def test_rotation_succeeds_after_exactly_one_fetch(setup: Setup) -> None:
    await verify(setup, sign(setup.endpoint.keys[0]))
    assert len(setup.endpoint.fetched_at) == 1
    k2 = signing_key("k2")
    setup.endpoint.keys.append(k2)  # the member publishes its next key
    setup.clock.advance(31)
    assert (await verify(setup, sign(k2)))["iss"] == OWNER
    assert len(setup.endpoint.fetched_at) == 2
    assert (await verify(setup, sign(k2)))["iss"] == OWNER
    assert len(setup.endpoint.fetched_at) == 2


async def test_a_key_published_within_the_cooldown_waits_for_it(setup: Setup) -> None:
    await verify(setup, sign(setup.endpoint.keys[0]))
    k2 = signing_key("k2")
    setup.endpoint.keys.append(k2)
    setup.clock.advance(10)
    with pytest.raises(UnknownSigningKey):
        await verify(setup, sign(k2))
    assert len(setup.endpoint.fetched_at) == 1
    setup.clock.advance(20)
    assert (await verify(setup, sign(k2)))["iss"] == OWNER
    assert len(setup.endpoint.fetched_at) == 2


async def test_existing_keys_keep_working_while_the_endpoint_fails(setup: Setup) -> None:
    k1 = setup.endpoint.keys[0]
    await verify(setup, sign(k1))
    setup.endpoint.status = 500
    setup.clock.advance(31)
    with pytest.raises(UnknownSigningKey) as refused:
        await verify(setup, sign(signing_key("k2")))  # an unknown kid: one fetch, which fails
    assert refused.value.reason == "unknown-kid"
    assert len(setup.endpoint.fetched_at) == 2
    for _ in range(3):
        assert (await verify(setup, sign(k1)))["iss"] == OWNER
    assert len(setup.endpoint.fetched_at) == 2


@pytest.mark.parametrize("kid", ["../../dev/null", "' OR '1'='1", "k" * 10_240, "", "k1\n", "k1;drop"])
async def test_garbage_kids_never_cause_a_fetch(setup: Setup, kid: str) -> None:
    # The header as a verifier would pass it (joserfc itself refuses JWS headers over 512 bytes, so the
    # 10 KB kid is checked here directly: the cache must not rely on that).
    with pytest.raises(UnknownSigningKey) as refused:
        await setup.cache.key_for_header(OWNER, setup.uri, {"alg": "ES256", "kid": kid})
    assert refused.value.reason == "invalid-kid"
    assert setup.endpoint.fetched_at == []


async def test_unsigned_tokens_never_cause_a_fetch(setup: Setup) -> None:
    header = {"alg": "none", "kid": "k1"}
    with pytest.raises(UnknownSigningKey) as refused:
        await setup.cache.key_for_header(OWNER, setup.uri, header)
    assert refused.value.reason == "unsupported-alg"
    assert setup.endpoint.fetched_at == []


async def test_a_token_carrying_its_own_key_is_not_verified_with_it(setup: Setup) -> None:
    attacker = signing_key("k1")  # same kid as the member's key
    forged = sign(attacker, jwk=attacker.as_dict(private=False), jku="http://127.0.0.2/jwks")
    with pytest.raises(BadSignatureError):
        await verify(setup, forged)  # verified with the registered k1, so the signature fails


async def test_concurrent_requests_share_one_fetch(setup: Setup) -> None:
    setup.endpoint.hold = asyncio.Event()
    k1 = setup.endpoint.keys[0]
    callers = [asyncio.create_task(verify(setup, sign(k1))) for _ in range(20)]
    unknown = [
        asyncio.create_task(setup.cache.key_for(OWNER, setup.uri, f"x{i}", alg="ES256")) for i in range(20)
    ]
    await asyncio.wait_for(setup.endpoint.started.wait(), timeout=30)  # safety net only
    setup.endpoint.hold.set()
    assert all(claims["iss"] == OWNER for claims in await asyncio.gather(*callers))
    results = await asyncio.gather(*unknown, return_exceptions=True)
    assert all(isinstance(r, UnknownSigningKey) for r in results)
    assert len(setup.endpoint.fetched_at) == 1
