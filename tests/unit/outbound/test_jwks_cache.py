"""R5: the JWKS cache's refetch rules, against an in-memory fetcher and a hand-moved clock."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from joserfc.jwk import ECKey, OKPKey

from contracts.errors import OutboundFailed, UnknownSigningKey
from gateway.outbound.jwks import JwksCache

URI = "https://registry.uni-a.example/jwks"


class FakeClock:
    """Monotonic seconds that pass only when the test says so."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


class FakeJwksEndpoint:
    """Serves ``document`` (or fails) and counts fetches."""

    def __init__(self, *keys: ECKey | OKPKey) -> None:
        self.keys = list(keys)
        self.fetches = 0
        self.failing = False

    async def get_json(self, url: str, *, max_bytes: int | None = None) -> Any:
        assert url == URI
        self.fetches += 1
        if self.failing:
            raise OutboundFailed("down", reason="status", upstream_status=500)
        return {"keys": [key.as_dict(private=False) for key in self.keys]}


def ec(kid: str) -> ECKey:
    return ECKey.generate_key("P-256", parameters={"kid": kid, "alg": "ES256"})


async def unknown(cache: JwksCache, kid: str, alg: str | None = "ES256") -> str:
    with pytest.raises(UnknownSigningKey) as refused:
        await cache.key_for("uni-a", URI, kid, alg=alg)
    return refused.value.reason


def test_r5_minimums_are_enforced() -> None:
    with pytest.raises(ValueError, match="R5"):
        JwksCache(FakeJwksEndpoint(), cooldown=10)
    with pytest.raises(ValueError, match="R5"):
        JwksCache(FakeJwksEndpoint(), negative_ttl=60)


async def test_known_kid_is_served_from_cache(clock: FakeClock) -> None:
    k1 = ec("k1")
    endpoint = FakeJwksEndpoint(k1)
    cache = JwksCache(endpoint, clock=clock)
    for _ in range(5):
        key = await cache.key_for("uni-a", URI, "k1", alg="ES256")
        assert key.as_dict() == k1.as_dict(private=False)
    assert endpoint.fetches == 1


async def test_unknown_kid_refetches_once_per_cooldown(clock: FakeClock) -> None:
    endpoint = FakeJwksEndpoint(ec("k1"))
    cache = JwksCache(endpoint, clock=clock)
    await cache.key_for("uni-a", URI, "k1", alg="ES256")
    assert await unknown(cache, "x1") == "unknown-kid"  # cooldown running since the first load
    assert endpoint.fetches == 1
    clock.advance(30)
    assert await unknown(cache, "x2") == "unknown-kid"  # cooldown over: one fetch
    assert await unknown(cache, "x3") == "unknown-kid"
    assert endpoint.fetches == 2


async def test_negative_cache_outlives_the_cooldown(clock: FakeClock) -> None:
    endpoint = FakeJwksEndpoint(ec("k1"))
    cache = JwksCache(endpoint, clock=clock)
    await cache.key_for("uni-a", URI, "k1", alg="ES256")
    clock.advance(30)
    await unknown(cache, "gone")  # fetched, still unknown: remembered for 5 min
    assert endpoint.fetches == 2
    clock.advance(60)
    await unknown(cache, "gone")
    assert endpoint.fetches == 2
    clock.advance(241)
    await unknown(cache, "gone")  # remembered no more: may fetch again
    assert endpoint.fetches == 3


async def test_negative_entry_does_not_hide_a_key_that_arrived(clock: FakeClock) -> None:
    endpoint = FakeJwksEndpoint(ec("k1"))
    cache = JwksCache(endpoint, clock=clock)
    await cache.key_for("uni-a", URI, "k1", alg="ES256")
    clock.advance(30)
    await unknown(cache, "k2")
    endpoint.keys.append(ec("k2"))
    clock.advance(30)
    await unknown(cache, "k3")  # another kid triggers the next fetch, which brings k2
    assert (await cache.key_for("uni-a", URI, "k2", alg="ES256")).kid == "k2"
    assert endpoint.fetches == 3


async def test_stale_set_is_refreshed_and_kept_when_the_endpoint_fails(clock: FakeClock) -> None:
    endpoint = FakeJwksEndpoint(ec("k1"))
    cache = JwksCache(endpoint, clock=clock, max_age=600)
    await cache.key_for("uni-a", URI, "k1", alg="ES256")
    endpoint.failing = True
    clock.advance(601)
    assert (await cache.key_for("uni-a", URI, "k1", alg="ES256")).kid == "k1"  # stale-if-error
    assert endpoint.fetches == 2
    assert (await cache.key_for("uni-a", URI, "k1", alg="ES256")).kid == "k1"  # no retry within the cooldown
    assert endpoint.fetches == 2
    assert await unknown(cache, "k9") == "unknown-kid"  # a failed fetch proves nothing: not remembered
    endpoint.failing = False
    clock.advance(30)
    await unknown(cache, "k9")
    assert endpoint.fetches == 3


async def test_no_keys_at_all_when_the_first_fetch_fails(clock: FakeClock) -> None:
    endpoint = FakeJwksEndpoint(ec("k1"))
    endpoint.failing = True
    cache = JwksCache(endpoint, clock=clock)
    assert await unknown(cache, "k1") == "jwks-unavailable"
    assert await unknown(cache, "k1") == "jwks-unavailable"
    assert endpoint.fetches == 1


async def test_removed_key_stops_working_after_refresh(clock: FakeClock) -> None:
    endpoint = FakeJwksEndpoint(ec("k1"))
    cache = JwksCache(endpoint, clock=clock, max_age=600)
    await cache.key_for("uni-a", URI, "k1", alg="ES256")
    endpoint.keys = [ec("k2")]
    clock.advance(601)
    assert await unknown(cache, "k1") == "unknown-kid"


@pytest.mark.parametrize("alg", ["none", "HS256", "", "ES256K"])
async def test_unsupported_algorithms_never_fetch(clock: FakeClock, alg: str) -> None:
    endpoint = FakeJwksEndpoint(ec("k1"))
    cache = JwksCache(endpoint, clock=clock)
    assert await unknown(cache, "k1", alg=alg) == "unsupported-alg"
    assert endpoint.fetches == 0


async def test_duplicate_kids_are_told_apart_by_key_type(clock: FakeClock) -> None:
    p256 = ECKey.generate_key("P-256", parameters={"kid": "shared"})
    ed = OKPKey.generate_key("Ed25519", parameters={"kid": "shared"})
    cache = JwksCache(FakeJwksEndpoint(p256, ed), clock=clock)
    assert isinstance(await cache.key_for("uni-a", URI, "shared", alg="ES256"), ECKey)
    assert isinstance(await cache.key_for("uni-a", URI, "shared", alg="EdDSA"), OKPKey)
    assert await unknown(cache, "shared", alg=None) == "ambiguous-kid"


async def test_two_keys_of_one_type_under_one_kid_are_ambiguous(clock: FakeClock) -> None:
    twins = [ECKey.generate_key("P-256", parameters={"kid": "twin"}) for _ in range(2)]
    cache = JwksCache(FakeJwksEndpoint(*twins), clock=clock)
    assert await unknown(cache, "twin") == "ambiguous-kid"


async def test_key_alg_must_match(clock: FakeClock) -> None:
    key = ECKey.generate_key("P-384", parameters={"kid": "p384", "alg": "ES384"})
    cache = JwksCache(FakeJwksEndpoint(key), clock=clock)
    assert (await cache.key_for("uni-a", URI, "p384", alg="ES384")).kid == "p384"
    assert await unknown(cache, "p384", alg="ES256") == "unknown-kid"


async def test_header_reading_ignores_embedded_keys(clock: FakeClock) -> None:
    registered = ec("k1")
    attacker = ec("k1")
    endpoint = FakeJwksEndpoint(registered)
    cache = JwksCache(endpoint, clock=clock)
    header = {
        "alg": "ES256",
        "kid": "k1",
        "jwk": attacker.as_dict(private=False),
        "jku": "https://attacker.example/jwks",
        "x5u": "https://attacker.example/cert",
        "x5c": ["MIIB"],
    }
    key = await cache.key_for_header("uni-a", URI, header)
    assert key.as_dict() == registered.as_dict(private=False)
    with pytest.raises(UnknownSigningKey) as refused:
        await cache.key_for_header("uni-a", URI, {"alg": "ES256", "kid": "evil", "jwk": attacker.as_dict()})
    assert refused.value.reason == "unknown-kid"
    with pytest.raises(UnknownSigningKey):
        await cache.key_for_header("uni-a", URI, {"jwk": attacker.as_dict(private=False)})


async def test_inline_jwks_never_fetches(clock: FakeClock) -> None:
    endpoint = FakeJwksEndpoint()
    cache = JwksCache(endpoint, clock=clock)
    k1 = ec("k1")
    inline = {"keys": [k1.as_dict(private=False)]}
    assert (await cache.key_for("uni-b", inline, "k1", alg="ES256")).kid == "k1"
    with pytest.raises(UnknownSigningKey) as refused:
        await cache.key_for("uni-b", inline, "k2", alg="ES256")
    assert refused.value.reason == "unknown-kid"
    replaced = {"keys": [ec("k2").as_dict(private=False)]}  # the registry changed: new set, no fetch
    assert (await cache.key_for("uni-b", replaced, "k2", alg="ES256")).kid == "k2"
    assert endpoint.fetches == 0


async def test_concurrent_unknown_kids_share_one_fetch(clock: FakeClock) -> None:
    class SlowEndpoint(FakeJwksEndpoint):
        def __init__(self, *keys: ECKey) -> None:
            super().__init__(*keys)
            self.release = asyncio.Event()

        async def get_json(self, url: str, *, max_bytes: int | None = None) -> Any:
            await self.release.wait()
            return await super().get_json(url, max_bytes=max_bytes)

    endpoint = SlowEndpoint(ec("k1"), ec("k2"))
    cache = JwksCache(endpoint, clock=clock)
    callers = [
        asyncio.create_task(cache.key_for("uni-a", URI, kid, alg="ES256")) for kid in ["k1", "k2"] * 10
    ]
    await asyncio.sleep(0)
    endpoint.release.set()
    keys = await asyncio.gather(*callers)
    assert [key.kid for key in keys] == ["k1", "k2"] * 10
    assert endpoint.fetches == 1


async def test_a_cancelled_caller_does_not_cancel_the_shared_fetch(clock: FakeClock) -> None:
    class SlowEndpoint(FakeJwksEndpoint):
        release = asyncio.Event()

        async def get_json(self, url: str, *, max_bytes: int | None = None) -> Any:
            await self.release.wait()
            return await super().get_json(url, max_bytes=max_bytes)

    endpoint = SlowEndpoint(ec("k1"))
    cache = JwksCache(endpoint, clock=clock)
    first = asyncio.create_task(cache.key_for("uni-a", URI, "k1", alg="ES256"))
    second = asyncio.create_task(cache.key_for("uni-a", URI, "k1", alg="ES256"))
    await asyncio.sleep(0)
    first.cancel()
    endpoint.release.set()
    assert (await second).kid == "k1"
    assert endpoint.fetches == 1


async def test_an_ambiguous_kid_is_looked_up_again_once_the_set_is_stale(clock: FakeClock) -> None:
    twins = [ECKey.generate_key("P-256", parameters={"kid": "twin"}) for _ in range(2)]
    endpoint = FakeJwksEndpoint(*twins)
    cache = JwksCache(endpoint, clock=clock, max_age=600)
    assert await unknown(cache, "twin") == "ambiguous-kid"
    endpoint.keys = twins[:1]  # the member fixes its JWKS
    assert await unknown(cache, "twin") == "ambiguous-kid"  # still fresh: no fetch
    assert endpoint.fetches == 1
    clock.advance(601)
    assert (await cache.key_for("uni-a", URI, "twin", alg="ES256")).kid == "twin"
    assert endpoint.fetches == 2
