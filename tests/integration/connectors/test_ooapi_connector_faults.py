"""``OoapiConnector`` faults against a real sandbox: deadlines (R25), member errors and hostile bodies (R19),
refused tokens, and the W3C ``traceparent`` it sends.

Timing bounds are generous (a deadline plus a wide margin), so they fail only on a real hang.
"""

from __future__ import annotations

import gzip
import socket
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from ooapi_sandbox_support import SHARED, Mint
from opentelemetry.sdk.trace import TracerProvider

from adapters.connectors.member_client import new_member_client
from adapters.connectors.ooapi import DEFAULT_MAX_BYTES, OoapiConnector
from adapters.connectors.sandbox import RunningSandbox, SandboxData
from contracts.connectors import CatalogueFilters, MemberHttpClient
from contracts.credentials import AwardingBody
from contracts.errors import (
    MemberCallError,
    MemberRefused,
    MemberResponseInvalid,
    MemberTimeout,
    MemberUnavailable,
)

AnyClient = MemberHttpClient | aiohttp.ClientSession
MEMBER = "uni-a.ac.uk"
BODY = AwardingBody(name="University A", country="GB", member=MEMBER)
MARGIN = 2.0  # seconds beyond a deadline a failure may take to surface (generous: no flaky timing)


def connector_for(
    base_url: str,
    session: AnyClient,
    token: str,
    max_bytes: int = DEFAULT_MAX_BYTES,
    page_size: int = 100,
    max_pages: int = 20,
) -> OoapiConnector:
    async def provide() -> str:
        return token

    return OoapiConnector(
        MEMBER,
        "uk-fheq",
        base_url,
        session,
        provide,
        awarding_body=BODY,
        max_bytes=max_bytes,
        page_size=page_size,
        max_pages=max_pages,
    )


@pytest.fixture(params=["aiohttp-session", "aiohttp", "pyreqwest"])
async def session(request: pytest.FixtureRequest) -> AsyncIterator[AnyClient]:
    """Every fault, through each client a connector may be given: a plain aiohttp session (a third
    party's), and either client of ``adapters.connectors.member_client`` (the gateway's)."""
    if request.param == "aiohttp-session":
        async with aiohttp.ClientSession() as plain:
            yield plain
        return
    client = new_member_client(request.param, 8)
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
def connector(sandbox: RunningSandbox, session: AnyClient, mint: Mint) -> OoapiConnector:
    return connector_for(sandbox.base_url, session, mint())


@pytest.fixture
def person_id(data: SandboxData) -> str:
    (person,) = data.persons_by_esi(SHARED[0].esi)
    return person.person_id


async def test_sanity(connector: OoapiConnector, person_id: str) -> None:
    assert await connector.find_learner(SHARED[0].esi, time.monotonic() + 10) == person_id
    assert len(await connector.fetch_credentials(person_id, time.monotonic() + 10)) == 2


async def test_a_credential_breaking_its_contract_is_skipped_on_every_lookup(
    sandbox: RunningSandbox, session: AnyClient, mint: Mint, person_id: str
) -> None:
    """Courses are mapped once and kept: the contract check of their credential must hold for lookups
    answered from what was kept, too (here every credential's awarding body is too long a name)."""

    async def provide() -> str:
        return mint()

    body = AwardingBody(name="x" * 301, country="GB", member=MEMBER)
    connector = OoapiConnector(MEMBER, "uk-fheq", sandbox.base_url, session, provide, awarding_body=body)
    for _ in range(2):
        result = await connector.fetch_report(person_id, time.monotonic() + 10)
        assert result.records == []
        assert [issue.reason for issue in result.issues] == ["contract", "contract"]


async def test_pagination_is_followed_up_to_a_cap(
    sandbox: RunningSandbox, session: AnyClient, mint: Mint, data: SandboxData
) -> None:
    assert len(data.courses) > 10
    paged = connector_for(sandbox.base_url, session, mint(), page_size=10)
    everything = await paged.list_catalogue(CatalogueFilters(), time.monotonic() + 10)
    assert len(everything) == len(data.courses)
    capped = connector_for(sandbox.base_url, session, mint(), page_size=10, max_pages=1)
    assert len(await capped.list_catalogue(CatalogueFilters(), time.monotonic() + 10)) == 10


@pytest.mark.parametrize("mode", ["slow", "hang"])
async def test_deadline_beats_a_slow_member(
    connector: OoapiConnector, sandbox: RunningSandbox, person_id: str, mode: str
) -> None:
    sandbox.faults.set(mode, delay_ms=30_000)  # type: ignore[arg-type]
    started = time.monotonic()
    with pytest.raises(MemberTimeout) as caught:
        await connector.fetch_credentials(person_id, started + 0.3)
    elapsed = time.monotonic() - started
    assert 0.25 <= elapsed < 0.3 + MARGIN
    assert caught.value.member == MEMBER
    assert caught.value.status == 504
    sandbox.faults.clear()


async def test_expired_deadline_sends_nothing(connector: OoapiConnector, sandbox: RunningSandbox) -> None:
    before = len(sandbox.sandbox.requests)
    with pytest.raises(MemberTimeout) as caught:
        await connector.find_learner(SHARED[0].esi, time.monotonic() - 1)
    assert caught.value.reason == "expired"
    with pytest.raises(MemberTimeout):
        await connector.get_credential("x", time.monotonic())
    assert len(sandbox.sandbox.requests) == before


@pytest.mark.parametrize("hostile", [".", "..", "a/../b", "x?y=1", "x#y", ""])
async def test_ids_stay_one_path_segment(
    connector: OoapiConnector, sandbox: RunningSandbox, hostile: str
) -> None:
    """An id is one path segment of the member's API (no traversal, no query): refused when it cannot be
    one, percent-encoded when it can."""
    before = len(sandbox.sandbox.requests)
    if hostile in (".", "..", ""):
        with pytest.raises(ValueError, match=r"characters|dot segment"):
            await connector.get_credential(hostile, time.monotonic() + 5)
        assert len(sandbox.sandbox.requests) == before
        return
    assert await connector.get_credential(hostile, time.monotonic() + 5) is None  # the member has none
    (request,) = list(sandbox.sandbox.requests)[before:]
    path, _, query = request.path.partition("?")
    assert path.startswith("/course-offering-associations/"), request.path
    assert path.count("/") == 2, request.path
    assert query == "expand=course_offering", request.path


async def test_error_keeps_the_member_problem(
    connector: OoapiConnector, sandbox: RunningSandbox, person_id: str
) -> None:
    sandbox.faults.set("error")
    with pytest.raises(MemberUnavailable) as caught:
        await connector.fetch_credentials(person_id, time.monotonic() + 10)
    error = caught.value
    assert (error.upstream_status, error.reason, error.member) == (503, "status", MEMBER)
    assert error.member_problem is not None
    assert error.member_problem["status"] == 503
    assert error.member_problem["detail"] == "injected fault"
    assert str(error.member_problem["type"]).endswith("fault-error")
    health = await connector.health(time.monotonic() + 10)
    assert (health.status, health.reason, health.upstream_status) == ("down", "MemberUnavailable:status", 503)


@pytest.mark.parametrize(("kind", "reason"), [("not-json", "not-json"), ("schema", "schema")])
async def test_malformed_bodies(
    connector: OoapiConnector, sandbox: RunningSandbox, person_id: str, kind: str, reason: str
) -> None:
    sandbox.faults.set("malformed", malformed_kind=kind)  # type: ignore[arg-type]
    with pytest.raises(MemberResponseInvalid) as caught:
        await connector.fetch_credentials(person_id, time.monotonic() + 10)
    assert caught.value.reason == reason
    with pytest.raises(MemberResponseInvalid):
        await connector.find_learner(SHARED[0].esi, time.monotonic() + 10)


async def test_oversized_body(sandbox: RunningSandbox, session: AnyClient, mint: Mint) -> None:
    small = connector_for(sandbox.base_url, session, mint(), max_bytes=512)
    with pytest.raises(MemberResponseInvalid) as caught:
        await small.list_catalogue(CatalogueFilters(), time.monotonic() + 10)
    assert caught.value.reason == "too-large"


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
async def test_a_compressed_body_is_capped_after_decompression(session: AnyClient, declared: bool) -> None:
    # 1 MB of JSON that gzip makes ~1 kB: small on the wire, far over the cap once decompressed (R19).
    page = b'{"pageNumber": 1, "hasNextPage": false, "items": []' + b" " * 1_000_000 + b"}"
    packed = gzip.compress(page)

    async def courses(request: web.Request) -> web.StreamResponse:
        headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
        if declared:
            return web.Response(body=packed, headers=headers)
        response = web.StreamResponse(headers=headers)
        await response.prepare(request)
        await response.write(packed)  # no Content-Length: sent chunked
        await response.write_eof()
        return response

    app = web.Application()
    app.add_routes([web.get("/courses", courses)])
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        base_url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        small = connector_for(base_url, session, "token", max_bytes=64 * 1024)
        assert len(packed) < 64 * 1024
        with pytest.raises(MemberResponseInvalid) as caught:
            await small.list_catalogue(CatalogueFilters(), time.monotonic() + 10)
        assert caught.value.reason == "too-large"
    finally:
        await runner.cleanup()


@pytest.mark.parametrize(
    ("claims", "status"),
    [({"iss": "https://someone-else.test"}, 401), ({"exp": 1}, 401), ({"scope": "other"}, 403)],
)
async def test_refused_tokens(
    sandbox: RunningSandbox,
    session: AnyClient,
    mint: Mint,
    person_id: str,
    claims: dict[str, object],
    status: int,
) -> None:
    refused = connector_for(sandbox.base_url, session, mint(**claims))
    with pytest.raises(MemberRefused) as caught:
        await refused.fetch_credentials(person_id, time.monotonic() + 10)
    assert caught.value.upstream_status == status
    assert caught.value.member_problem is not None
    assert caught.value.member_problem["status"] == status


async def test_connection_refused(session: AnyClient, mint: Mint) -> None:
    with socket.socket() as probe:  # a port nobody listens on (bound, never listening)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        unreachable = connector_for(f"http://127.0.0.1:{port}", session, mint())
        with pytest.raises(MemberUnavailable) as caught:
            await unreachable.find_learner(SHARED[0].esi, time.monotonic() + 10)
    assert caught.value.reason == "connect"
    assert isinstance(caught.value, MemberCallError)


async def test_invalid_identifiers_fail_before_calling(connector: OoapiConnector) -> None:
    with pytest.raises(ValueError, match="characters"):
        await connector.fetch_credentials("", time.monotonic() + 10)
    with pytest.raises(ValueError, match="commas"):
        await connector.find_learner("a,b", time.monotonic() + 10)


async def test_traceparent_and_budget_reach_the_member(
    connector: OoapiConnector, sandbox: RunningSandbox, person_id: str
) -> None:
    tracer = TracerProvider().get_tracer("test")
    before = len(sandbox.sandbox.requests)
    with tracer.start_as_current_span("recognise") as span:
        records = await connector.fetch_credentials(person_id, time.monotonic() + 10)
        trace_id = format(span.get_span_context().trace_id, "032x")
    assert len(records) == 2
    sent = list(sandbox.sandbox.requests)[before:]
    assert len(sent) == 1 + 2  # associations (offerings expanded), then the course of each award
    assert {record.trace_id for record in sent} == {trace_id}
