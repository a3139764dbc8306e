"""R18: the URL checks that refuse a call before any name is resolved or any connection is made."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

import pytest

from contracts.errors import OutboundRefused
from gateway.outbound.addresses import IPAddress
from gateway.outbound.fetch import OutboundPolicy, SafeFetcher, canonical_origin


class RecordingResolver:
    """Answers every name with a public address and records that it was asked."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def __call__(self, host: str, port: int) -> Sequence[IPAddress]:
        self.calls.append(host)
        return [ipaddress.ip_address("93.184.215.14")]


def test_origins_are_normalised() -> None:
    assert canonical_origin("HTTPS://Registry.Uni-A.example/") == "https://registry.uni-a.example:443"
    assert (
        canonical_origin("https://registry.uni-a.example:8443/x?y") == "https://registry.uni-a.example:8443"
    )
    assert canonical_origin("https://[::1]:8443") == "https://[::1]:8443"
    policy = OutboundPolicy.for_origins(["https://Registry.Uni-A.example"])
    assert policy.allowed_origins == frozenset({"https://registry.uni-a.example:443"})
    assert policy.allows_origin("https://registry.uni-a.example:443/jwks")
    assert not policy.allows_origin("https://registry.uni-a.example:8443/jwks")
    assert not policy.allows_origin("not a url")


@pytest.mark.parametrize(
    "origin",
    [
        "http://registry.uni-a.example",  # plain http outside the test mode
        "https://registry.uni-a.example/jwks",  # a path is not an origin
        "https://registry.uni-a.example?x=1",
        "https://a@registry.uni-a.example",
        "ftp://registry.uni-a.example",
    ],
)
def test_policy_refuses_what_is_not_an_https_origin(origin: str) -> None:
    with pytest.raises(ValueError, match="origin"):
        OutboundPolicy.for_origins([origin])


def test_policy_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        OutboundPolicy.for_origins(["https://a.example"], max_bytes=0)


def test_http_origin_allowed_only_in_loopback_test_mode() -> None:
    policy = OutboundPolicy.for_origins(["http://127.0.0.1:8080"], allow_insecure_loopback=True)
    assert policy.allows_origin("http://127.0.0.1:8080/")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://registry.uni-a.example/jwks", "scheme"),
        ("ftp://registry.uni-a.example/jwks", "scheme"),
        ("file:///etc/passwd", "url"),
        ("https://a@127.0.0.2/", "userinfo"),
        ("https://registry.uni-a.example@127.0.0.2/", "userinfo"),
        ("https://user:secret@registry.uni-a.example/jwks", "userinfo"),
        ("https://@registry.uni-a.example/jwks", "userinfo"),
        ("https://registry.uni-a.example\\@127.0.0.2/", "url"),
        ("https://127.0.0.2/", "origin"),
        ("https://169.254.169.254/latest/meta-data/", "origin"),
        ("https://registry.uni-a.example:8443/jwks", "origin"),
        ("https://registry.uni-b.example/jwks", "origin"),
        ("/relative/path", "url"),
        ("https://registry.uni-a.example:99999/", "url"),
    ],
)
async def test_refused_before_resolution(url: str, reason: str) -> None:
    resolver = RecordingResolver()
    policy = OutboundPolicy.for_origins(["https://registry.uni-a.example"])
    async with SafeFetcher(policy, resolver=resolver) as fetcher:
        with pytest.raises(OutboundRefused) as refused:
            await fetcher.get_json(url)
    assert refused.value.reason == reason
    assert resolver.calls == []


@pytest.mark.parametrize(
    "answer",
    [
        ["10.0.0.1"],
        ["169.254.169.254"],
        ["100.64.0.1"],
        ["::ffff:127.0.0.1"],
        ["fd00::1"],
        ["93.184.215.14", "127.0.0.1"],  # one bad address spoils the answer
    ],
)
async def test_non_public_answers_are_refused_before_connecting(answer: list[str]) -> None:
    async def resolver(host: str, port: int) -> Sequence[IPAddress]:
        return [ipaddress.ip_address(a) for a in answer]

    policy = OutboundPolicy.for_origins(["https://registry.uni-a.example"])
    async with SafeFetcher(policy, resolver=resolver) as fetcher:
        with pytest.raises(OutboundRefused) as refused:
            await fetcher.get_json("https://registry.uni-a.example/jwks")
    assert refused.value.reason == "address"


async def test_loopback_test_mode_allows_127_0_0_1_only() -> None:
    async def resolver(host: str, port: int) -> Sequence[IPAddress]:
        return [ipaddress.ip_address("127.0.0.2")]

    policy = OutboundPolicy.for_origins(["http://member.test:8080"], allow_insecure_loopback=True)
    async with SafeFetcher(policy, resolver=resolver) as fetcher:
        with pytest.raises(OutboundRefused) as refused:
            await fetcher.get_json("http://member.test:8080/jwks")
    assert refused.value.reason == "address"


async def test_plain_http_to_a_public_address_is_refused_even_in_test_mode() -> None:
    resolver = RecordingResolver()
    policy = OutboundPolicy.for_origins(["http://member.test:8080"], allow_insecure_loopback=True)
    async with SafeFetcher(policy, resolver=resolver) as fetcher:
        with pytest.raises(OutboundRefused) as refused:
            await fetcher.get_json("http://member.test:8080/jwks")
    assert refused.value.reason == "scheme"
    assert resolver.calls == ["member.test"]


async def test_closed_fetcher_refuses_to_send() -> None:
    async def resolver(host: str, port: int) -> Sequence[IPAddress]:
        return [ipaddress.ip_address("127.0.0.1")]

    policy = OutboundPolicy.for_origins(["http://member.test:8080"], allow_insecure_loopback=True)
    fetcher = SafeFetcher(policy, resolver=resolver)
    await fetcher.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await fetcher.get_json("http://member.test:8080/jwks")
