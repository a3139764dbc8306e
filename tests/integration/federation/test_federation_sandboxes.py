"""``fan_out`` over three real OOAPI sandboxes on loopback, each read by an ``OoapiConnector`` through its
composed stack (deadline -> breaker -> bulkhead -> retry -> connector): all up, one hung, one erroring,
and a breaker that opens on repeated errors and is closed again by its background probe.

Timing bounds are generous (a deadline plus a wide margin), so they fail only on a real hang.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass

import aiohttp
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from adapters.connectors.ooapi import OoapiConnector
from adapters.connectors.sandbox import RunningSandbox, SandboxData, SharedLearner, esi_urn, run_sandbox
from contracts.credentials import AwardingBody
from gateway.federation import (
    Bulkhead,
    CircuitBreaker,
    FanOutResult,
    MemberPolicy,
    RetryBudget,
    fan_out,
    health_probe,
)
from gateway.federation.calls import Call

ISSUER = "https://gw.test"
AUDIENCE = "https://ooapi.members.test"
SCOPE = "ooapi:read"
ESI = esi_urn("uni-a.ac.uk", "4711")
LEARNER = SharedLearner(esi=ESI, given_name="Sam", surname="Okafor", passed=1)
MEMBERS = ("college-c.edu", "uni-a.ac.uk", "uni-b.ac.uk")
MARGIN = 0.5  # seconds an answer may come after the overall deadline (generous: no flaky timing)
OPEN_FOR = 1.0  # seconds a breaker stays open before its background probe


@dataclass
class Site:
    member: str
    sandbox: RunningSandbox
    connector: OoapiConnector
    policy: MemberPolicy

    @property
    def requests(self) -> int:
        return len(self.sandbox.sandbox.requests)


def token(key: ECKey) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "gw",
        "client_id": "gw",
        "scope": SCOPE,
        "iat": now,
        "exp": now + 300,
        "jti": f"j{now}",
    }
    return jwt.encode({"alg": "ES256", "typ": "at+jwt", "kid": key.kid}, claims, key, algorithms=["ES256"])


@pytest.fixture
async def sites() -> AsyncIterator[dict[str, Site]]:
    key = ECKey.generate_key("P-256", parameters={"kid": "gw-at-1", "alg": "ES256"}, private=True)
    jwks = {"keys": [key.as_dict(private=False)]}
    bearer = token(key)

    async def provide() -> str:
        return bearer

    async with AsyncExitStack() as stack:
        session = await stack.enter_async_context(aiohttp.ClientSession())
        built: dict[str, Site] = {}
        for member in MEMBERS:
            data = SandboxData.generate(member, "uk-fheq", member, learners=5, courses=3, shared=(LEARNER,))
            sandbox = await stack.enter_async_context(
                run_sandbox(data, issuer=ISSUER, audience=AUDIENCE, jwks=jwks, required_scope=SCOPE)
            )
            body = AwardingBody(name=member, country="GB", member=member)
            connector = OoapiConnector(
                member, "uk-fheq", sandbox.base_url, session, provide, awarding_body=body
            )
            policy = MemberPolicy(
                member=member,
                connector=connector.connector_id,
                timeout=5.0,
                breaker=CircuitBreaker(
                    member,
                    probe=health_probe(connector),
                    failure_threshold=2,
                    window=30.0,
                    open_for=OPEN_FOR,
                    probe_timeout=2.0,
                ),
                bulkhead=Bulkhead(member, max_in_flight=4, max_queue_wait=0.1),
                budget=RetryBudget(),
                attempts=2,
            )
            stack.push_async_callback(policy.aclose)
            built[member] = Site(member, sandbox, connector, policy)
        yield built


async def find_everywhere(
    sites: dict[str, Site], seconds: float, tracer: TracerProvider | None = None
) -> FanOutResult[str | None]:
    calls: dict[str, Call[str | None]] = {}
    for member, site in sites.items():

        async def find(deadline: float, connector: OoapiConnector = site.connector) -> str | None:
            return await connector.find_learner(ESI, deadline)

        calls[member] = site.policy.bind(find)
    return await fan_out(
        calls,
        time.monotonic() + seconds,
        connectors={m: s.connector.connector_id for m, s in sites.items()},
        tracer=tracer.get_tracer("test") if tracer else None,
    )


async def test_all_members_up(sites: dict[str, Site]) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    result = await find_everywhere(sites, 5.0, provider)
    assert [(o.member, o.status) for o in result.outcomes] == [(m, "ok") for m in MEMBERS]
    assert not result.partial
    assert sorted(result.values) == list(MEMBERS)
    assert all(value for value in result.values.values())  # the shared learner is found everywhere
    assert all(o.attempts == 1 for o in result.outcomes)
    member_spans = [s for s in exporter.get_finished_spans() if s.name == "federation.member"]
    assert sorted(str(s.attributes["member.id"]) for s in member_spans if s.attributes) == list(MEMBERS)


async def test_a_hung_member_times_out_at_the_overall_deadline(sites: dict[str, Site]) -> None:
    sites["uni-b.ac.uk"].sandbox.faults.set("hang")
    deadline = 0.6
    started = time.monotonic()
    result = await find_everywhere(sites, deadline)
    assert time.monotonic() - started <= deadline + MARGIN
    assert result.partial
    assert result.outcome("uni-b.ac.uk").status == "timeout"
    assert result.outcome("uni-a.ac.uk").status == "ok"
    assert result.outcome("college-c.edu").status == "ok"
    assert set(result.values) == {"uni-a.ac.uk", "college-c.edu"}


async def test_an_erroring_member_keeps_its_problem(sites: dict[str, Site]) -> None:
    sites["college-c.edu"].sandbox.faults.set("error")
    result = await find_everywhere(sites, 5.0)
    assert result.partial
    failed = result.outcome("college-c.edu")
    assert (failed.status, failed.reason, failed.upstream_status) == ("error", "status", 503)
    assert failed.attempts in (1, 2)  # a 503 may be retried once, within the retry budget
    assert failed.problem is not None
    assert failed.problem["status"] == 503
    assert failed.problem["detail"] == "injected fault"
    assert result.outcome("uni-a.ac.uk").status == "ok"


async def test_breaker_opens_on_errors_and_a_background_probe_closes_it(sites: dict[str, Site]) -> None:
    site = sites["college-c.edu"]
    breaker = site.policy.breaker
    assert breaker is not None
    site.sandbox.faults.set("error")
    for _ in range(2):  # failure_threshold = 2 failed calls (each maybe retried once)
        assert (await find_everywhere(sites, 5.0)).outcome("college-c.edu").status == "error"
    assert breaker.state == "open"

    before = site.requests
    result = await find_everywhere(sites, 5.0)
    refused = result.outcome("college-c.edu")
    assert (refused.status, refused.attempts, refused.reason) == ("circuit_open", 0, "open")
    assert site.requests == before  # nothing reached the member
    assert result.outcome("uni-a.ac.uk").status == "ok"

    site.sandbox.faults.clear()
    ends = time.monotonic() + OPEN_FOR + 5.0
    while breaker.state != "closed":  # the background probe, not a user request, closes it
        assert time.monotonic() < ends, "the breaker did not close"
        await asyncio.sleep(0.02)
    assert breaker.probes >= 1
    assert [r.path for r in list(site.sandbox.sandbox.requests)[before:]] == ["/"] * breaker.probes
    healed = await find_everywhere(sites, 5.0)
    assert not healed.partial
    assert healed.outcome("college-c.edu").status == "ok"
