"""R18 against real servers on loopback: what the fetcher sends, and everything it refuses to send.

The member is an aiohttp app on 127.0.0.1 (the one address the loopback test mode lets through); the
"internal admin" service is a TCP listener on 127.0.0.2 that counts connections and must see none.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Sequence

import pytest
from aiohttp import web
from loopback_servers import LoopbackServer, ServeApp, StartInternal
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from contracts.errors import OutboundFailed, OutboundRefused, OutboundTimeout
from gateway.outbound.addresses import IPAddress
from gateway.outbound.fetch import OutboundPolicy, SafeFetcher
from gateway.telemetry import Telemetry

KEYS = {"keys": []}


async def jwks(request: web.Request) -> web.Response:
    return web.json_response(KEYS)


def loopback_policy(*members: LoopbackServer, **limits: float) -> OutboundPolicy:
    return OutboundPolicy.for_origins([m.origin for m in members], allow_insecure_loopback=True, **limits)


class ScriptedResolver:
    """Answers a host name with the next scripted answer (the last one repeats), recording each question."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = list(answers)
        self.calls: list[str] = []

    async def __call__(self, host: str, port: int) -> Sequence[IPAddress]:
        self.calls.append(host)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return [ipaddress.ip_address(a) for a in answer]


async def test_fetches_json_and_traces_the_call(
    serve: ServeApp, telemetry: Telemetry, spans: InMemorySpanExporter
) -> None:
    received: dict[str, str] = {}

    async def capture(request: web.Request) -> web.Response:
        received.update(request.headers)
        return web.json_response(KEYS)

    member = await serve([web.get("/jwks", capture)])
    async with SafeFetcher(loopback_policy(member), tracer=telemetry.tracer) as fetcher:
        assert await fetcher.get_json(member.url("/jwks?secret=s3cr3t")) == KEYS
    assert member.requests == ["/jwks?secret=s3cr3t"]
    assert received["Accept-Encoding"] == "identity"
    assert received["traceparent"].startswith("00-")
    (span,) = [s for s in spans.get_finished_spans() if s.kind == SpanKind.CLIENT]
    attributes = dict(span.attributes or {})
    assert attributes["url.full"] == member.url("/jwks")  # no query string
    assert attributes["http.response.status_code"] == 200
    assert attributes["outbound.outcome"] == "ok"
    assert "s3cr3t" not in repr(attributes)


async def test_refusals_are_traced(
    serve: ServeApp, telemetry: Telemetry, spans: InMemorySpanExporter
) -> None:
    member = await serve([web.get("/jwks", jwks)])
    async with SafeFetcher(loopback_policy(member), tracer=telemetry.tracer) as fetcher:
        with pytest.raises(OutboundRefused):
            await fetcher.get_json("https://user:pw@127.0.0.2/")
    (span,) = spans.get_finished_spans()
    attributes = dict(span.attributes or {})
    assert attributes["outbound.outcome"] == "refused"
    assert attributes["error.type"] == "userinfo"
    assert "pw" not in repr(attributes)


async def test_unlisted_internal_server_gets_no_connection(serve: ServeApp, internal: StartInternal) -> None:
    member = await serve([web.get("/jwks", jwks)])
    admin = await internal()
    async with SafeFetcher(loopback_policy(member)) as fetcher:
        for url in (
            f"http://127.0.0.2:{admin.port}/admin",
            f"https://127.0.0.2:{admin.port}/admin",
            f"http://127.0.0.1:{admin.port}/admin",  # right address, unlisted port
        ):
            with pytest.raises(OutboundRefused) as refused:
                await fetcher.get_json(url)
            assert refused.value.reason == "origin"
    assert admin.connections == 0


async def test_listing_127_0_0_2_does_not_make_it_reachable(internal: StartInternal) -> None:
    admin = await internal()
    policy = OutboundPolicy.for_origins([f"http://127.0.0.2:{admin.port}"], allow_insecure_loopback=True)
    async with SafeFetcher(policy) as fetcher:
        with pytest.raises(OutboundRefused) as refused:
            await fetcher.get_json(f"http://127.0.0.2:{admin.port}/admin")
    assert refused.value.reason == "address"
    assert admin.connections == 0


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("target", ["metadata", "internal"])
async def test_redirects_are_not_followed(
    serve: ServeApp, internal: StartInternal, status: int, target: str
) -> None:
    admin = await internal()
    location = (
        "http://169.254.169.254/latest/meta-data/"
        if target == "metadata"
        else f"http://127.0.0.2:{admin.port}/"
    )

    async def redirect(request: web.Request) -> web.Response:
        return web.Response(status=status, headers={"Location": location})

    member = await serve([web.get("/jwks", redirect)])
    resolver = ScriptedResolver(["127.0.0.1"])
    policy = OutboundPolicy.for_origins([f"http://member.test:{member.port}"], allow_insecure_loopback=True)
    async with SafeFetcher(policy, resolver=resolver) as fetcher:
        with pytest.raises(OutboundRefused) as refused:
            await fetcher.get_json(f"http://member.test:{member.port}/jwks")
    assert refused.value.reason == "redirect"
    assert refused.value.upstream_status == status
    assert resolver.calls == ["member.test"]  # the Location was never even resolved
    assert member.requests == ["/jwks"]
    assert admin.connections == 0


async def test_dns_rebinding_is_refused_and_the_checked_address_is_pinned(
    serve: ServeApp, internal: StartInternal
) -> None:
    member = await serve([web.get("/jwks", jwks)])
    admin = await internal(port=member.port)  # same port, the address a rebinding answer points at
    # 127.0.0.1 stands for the public address the first answer gives; every later answer is 127.0.0.2.
    resolver = ScriptedResolver(["127.0.0.1"], ["127.0.0.2"])
    policy = OutboundPolicy.for_origins([f"http://member.test:{member.port}"], allow_insecure_loopback=True)
    url = f"http://member.test:{member.port}/jwks"
    async with SafeFetcher(policy, resolver=resolver) as fetcher:
        assert await fetcher.get_json(url) == KEYS
        # One resolution for the whole call: the connection used the checked address, not a second lookup
        # (which would now say 127.0.0.2).
        assert resolver.calls == ["member.test"]
        with pytest.raises(OutboundRefused) as refused:
            await fetcher.get_json(url)
    assert refused.value.reason == "address"
    assert member.requests == ["/jwks"]
    assert admin.connections == 0


async def test_plain_http_and_loopback_are_refused_outside_the_test_mode(serve: ServeApp) -> None:
    member = await serve([web.get("/jwks", jwks)])
    policy = OutboundPolicy.for_origins([f"https://127.0.0.1:{member.port}"])
    async with SafeFetcher(policy) as fetcher:
        with pytest.raises(OutboundRefused) as refused:
            await fetcher.get_json(member.url("/jwks"))
        assert refused.value.reason == "scheme"
        with pytest.raises(OutboundRefused) as refused:
            await fetcher.get_json(f"https://127.0.0.1:{member.port}/jwks")
        assert refused.value.reason == "address"  # loopback is not public; only the test mode lets it by
    assert member.requests == []


async def test_userinfo_tricks_are_refused(serve: ServeApp, internal: StartInternal) -> None:
    member = await serve([web.get("/jwks", jwks)])
    admin = await internal()
    async with SafeFetcher(loopback_policy(member)) as fetcher:
        for url in (
            "https://a@127.0.0.2",
            f"http://a@127.0.0.2:{admin.port}/",
            f"http://127.0.0.1:{member.port}@127.0.0.2:{admin.port}/",
            f"http://user:pw@127.0.0.1:{member.port}/jwks",  # even to the listed origin
        ):
            with pytest.raises(OutboundRefused) as refused:
                await fetcher.get_json(url)
            assert refused.value.reason == "userinfo"
    assert member.requests == []
    assert admin.connections == 0


async def test_declared_oversized_body_is_refused(serve: ServeApp) -> None:
    async def big(request: web.Request) -> web.Response:
        return web.Response(body=b"0" * (2 * 1024 * 1024), content_type="application/json")

    member = await serve([web.get("/jwks", big)])
    async with SafeFetcher(loopback_policy(member, max_bytes=64 * 1024)) as fetcher:
        with pytest.raises(OutboundFailed) as failed:
            await fetcher.get_json(member.url("/jwks"))
    assert failed.value.reason == "too-large"


async def test_streamed_oversized_body_is_abandoned_early(serve: ServeApp) -> None:
    total = 256 * 1024 * 1024
    written = 0
    finished = asyncio.Event()

    async def endless(request: web.Request) -> web.StreamResponse:
        nonlocal written
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        chunk = b"0" * (64 * 1024)
        try:
            while written < total:
                await response.write(chunk)
                written += len(chunk)
        except (ConnectionError, RuntimeError):
            pass  # the client hung up, as it should
        finally:
            finished.set()
        return response

    member = await serve([web.get("/jwks", endless)])
    async with SafeFetcher(loopback_policy(member, max_bytes=256 * 1024)) as fetcher:
        with pytest.raises(OutboundFailed) as failed:
            await fetcher.get_json(member.url("/jwks"))
    assert failed.value.reason == "too-large"
    await asyncio.wait_for(finished.wait(), timeout=30)  # safety net only
    assert written < total


@pytest.mark.parametrize("stall", ["headers", "body"])
async def test_slow_server_times_out(
    serve: ServeApp, telemetry: Telemetry, spans: InMemorySpanExporter, stall: str
) -> None:
    release = asyncio.Event()

    async def slow(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        if stall == "body":
            response.content_length = 100
            await response.prepare(request)
            await response.write(b"{")
        await release.wait()
        return response

    member = await serve([web.get("/jwks", slow)])
    try:
        async with SafeFetcher(loopback_policy(member, timeout=0.2), tracer=telemetry.tracer) as fetcher:
            with pytest.raises(OutboundTimeout) as timed_out:
                await fetcher.get_json(member.url("/jwks"))
    finally:
        release.set()
    assert timed_out.value.reason == "timeout"
    (span,) = spans.get_finished_spans()
    assert (span.attributes or {})["outbound.outcome"] == "timeout"


@pytest.mark.parametrize(
    ("response", "reason"),
    [
        (lambda: web.json_response({"error": "x"}, status=500), "status"),
        (lambda: web.Response(text="<html>", content_type="text/html"), "malformed"),
        (lambda: web.Response(body=b"\x1f\x8b...", headers={"Content-Encoding": "gzip"}), "encoding"),
    ],
)
async def test_bad_answers_fail(serve: ServeApp, response: object, reason: str) -> None:
    async def answer(request: web.Request) -> web.Response:
        assert callable(response)
        result: web.Response = response()
        return result

    member = await serve([web.get("/jwks", answer)])
    async with SafeFetcher(loopback_policy(member)) as fetcher:
        with pytest.raises(OutboundFailed) as failed:
            await fetcher.get_json(member.url("/jwks"))
    assert failed.value.reason == reason


async def test_request_returns_any_status_and_sends_the_body(serve: ServeApp) -> None:
    received: list[bytes] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(await request.read())
        return web.json_response({"error": "invalid_client"}, status=401)

    member = await serve([web.post("/token", hook)])
    async with SafeFetcher(loopback_policy(member)) as fetcher:
        response = await fetcher.request(
            "POST", member.url("/token"), headers={"Content-Type": "text/plain"}, body=b"hello"
        )
    assert response.status == 401
    assert response.headers["content-type"].startswith("application/json")
    assert response.body == b'{"error": "invalid_client"}'
    assert received == [b"hello"]


async def test_unreachable_member_fails(serve: ServeApp) -> None:
    member = await serve([web.get("/jwks", jwks)])
    closed = LoopbackServer(host="127.0.0.1", port=1)  # nothing listens on port 1
    async with SafeFetcher(loopback_policy(member, closed)) as fetcher:
        with pytest.raises(OutboundFailed) as failed:
            await fetcher.get_json(closed.url("/jwks"))
    assert failed.value.reason == "connect"
