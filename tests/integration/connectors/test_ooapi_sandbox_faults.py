"""Faults switched at runtime (Python API and admin endpoint), and the ``traceparent`` recorder.

Timing assertions use generous margins and every wait is bounded by a client timeout.
"""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import pytest
from joserfc.jwk import ECKey
from ooapi_sandbox_support import AUDIENCE, ISSUER, SCOPE
from ooapi_schema_subset import OoapiDocument

from adapters.connectors.sandbox import ADMIN_HEADER, RunningSandbox, SandboxData, run_sandbox


async def status_of(http: aiohttp.ClientSession, sandbox: RunningSandbox, auth: dict[str, str]) -> int:
    async with http.get(f"{sandbox.base_url}/courses", headers=auth) as response:
        await response.read()
        return response.status


async def test_slow(http: aiohttp.ClientSession, sandbox: RunningSandbox, auth: dict[str, str]) -> None:
    sandbox.faults.set("slow", delay_ms=400)
    started = time.monotonic()
    assert await status_of(http, sandbox, auth) == 200
    assert time.monotonic() - started >= 0.35
    with pytest.raises(asyncio.TimeoutError):
        async with http.get(
            f"{sandbox.base_url}/courses", headers=auth, timeout=aiohttp.ClientTimeout(total=0.1)
        ) as response:
            await response.read()


async def test_error(
    http: aiohttp.ClientSession, sandbox: RunningSandbox, auth: dict[str, str], ooapi_doc: OoapiDocument
) -> None:
    sandbox.faults.set("error")
    async with http.get(f"{sandbox.base_url}/courses", headers=auth) as response:
        assert (response.status, response.content_type) == (503, "application/problem+json")
        body = await response.json(content_type=None)
    assert ooapi_doc.errors(body, ooapi_doc.schemas["Problem"]) == []
    assert body["status"] == 503


async def test_hang_is_released_when_cleared(
    http: aiohttp.ClientSession, sandbox: RunningSandbox, auth: dict[str, str]
) -> None:
    sandbox.faults.set("hang")
    with pytest.raises(asyncio.TimeoutError):
        async with http.get(
            f"{sandbox.base_url}/courses", headers=auth, timeout=aiohttp.ClientTimeout(total=0.5)
        ) as response:
            await response.read()
    pending = asyncio.create_task(status_of(http, sandbox, auth))
    await asyncio.sleep(0.2)
    assert not pending.done()
    sandbox.faults.clear()
    assert await asyncio.wait_for(pending, 5) == 503
    assert await status_of(http, sandbox, auth) == 200


async def test_flapping_alternates(
    http: aiohttp.ClientSession, sandbox: RunningSandbox, auth: dict[str, str]
) -> None:
    sandbox.faults.set("flapping")
    assert [await status_of(http, sandbox, auth) for _ in range(6)] == [200, 503, 200, 503, 200, 503]


async def test_malformed(http: aiohttp.ClientSession, sandbox: RunningSandbox, auth: dict[str, str],
                         ooapi_doc: OoapiDocument) -> None:  # fmt: skip
    sandbox.faults.set("malformed")
    async with http.get(f"{sandbox.base_url}/courses", headers=auth) as response:
        assert (response.status, response.content_type) == (200, "application/json")
        raw = await response.read()
    with pytest.raises(ValueError, match="Expecting value"):
        json.loads(raw)
    sandbox.faults.set("malformed", malformed_kind="schema")
    async with http.get(f"{sandbox.base_url}/courses", headers=auth) as response:
        assert response.status == 200
        body = await response.json()
    assert ooapi_doc.errors(body, ooapi_doc.response_schema("/courses"))


async def test_admin_endpoint(
    http: aiohttp.ClientSession, sandbox: RunningSandbox, auth: dict[str, str]
) -> None:
    url = f"{sandbox.base_url}/_sandbox/faults"
    admin = {ADMIN_HEADER: sandbox.admin_secret}
    async with http.put(url, json={"mode": "error"}) as response:
        assert response.status == 401
    async with http.put(url, json={"mode": "error"}, headers={ADMIN_HEADER: "wrong"}) as response:
        assert response.status == 401
    async with http.put(url, json={"mode": "explode"}, headers=admin) as response:
        assert response.status == 400
    async with http.put(url, json={"mode": "slow", "delayMs": -1}, headers=admin) as response:
        assert response.status == 400
    assert await status_of(http, sandbox, auth) == 200
    async with http.put(url, json={"mode": "error"}, headers=admin) as response:
        assert (response.status, await response.json()) == (
            200,
            {"mode": "error", "delayMs": 0, "malformedKind": "not-json"},
        )
    assert await status_of(http, sandbox, auth) == 503
    async with http.get(url, headers=admin) as response:
        assert (await response.json())["mode"] == "error"
    async with http.delete(url, headers=admin) as response:
        assert response.status == 200
    assert await status_of(http, sandbox, auth) == 200
    # The admin API bypasses faults and bearer tokens, and is not recorded as OOAPI traffic.
    assert all(not r.path.startswith("/_sandbox/") for r in sandbox.sandbox.requests)


async def test_traceparent_recorded(
    http: aiohttp.ClientSession, sandbox: RunningSandbox, auth: dict[str, str]
) -> None:
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    traceparent = f"00-{trace_id}-00f067aa0ba902b7-01"
    async with http.get(
        f"{sandbox.base_url}/courses", headers={**auth, "traceparent": traceparent}
    ) as response:
        assert response.status == 200
    async with http.get(f"{sandbox.base_url}/courses", headers={"traceparent": traceparent}) as response:
        assert response.status == 401  # recorded even when refused
    assert sandbox.sandbox.last_traceparent == traceparent
    assert sandbox.sandbox.requests[-2].trace_id == trace_id
    await status_of(http, sandbox, auth)
    assert sandbox.sandbox.last_traceparent is None
    async with http.get(
        f"{sandbox.base_url}/_sandbox/traceparents", headers={ADMIN_HEADER: sandbox.admin_secret}
    ) as response:
        records = await response.json()
    assert [r["traceparent"] for r in records] == [traceparent, traceparent, None]
    assert records[0]["path"] == "/courses"


async def test_shutdown_with_a_hanging_request(
    auth: dict[str, str], data: SandboxData, issuer_key: ECKey
) -> None:
    """Leaving ``run_sandbox`` releases hung requests, so shutdown is bounded."""
    jwks = {"keys": [issuer_key.as_dict(private=False)]}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
        started = time.monotonic()
        async with run_sandbox(data, issuer=ISSUER, audience=AUDIENCE, jwks=jwks, required_scope=SCOPE) as sb:
            sb.faults.set("hang")
            pending = asyncio.create_task(status_of(http, sb, auth))
            await asyncio.sleep(0.2)
        result = await asyncio.wait_for(asyncio.gather(pending, return_exceptions=True), 5)
        assert time.monotonic() - started < 5
    assert result[0] == 503 or isinstance(result[0], aiohttp.ClientError)
