"""The client of a member's registry calls, either kind (``GATEWAY_MEMBER_HTTP_CLIENT``): it carries no state
from one call to the next (a cookie the member sets while answering one lookup does not go back to it with
the next, another caller's), follows no redirect, keeps to its connection limit, and gets a connection back
from a call its deadline cut off."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import msgspec
import pytest
from aiohttp import web

from adapters.connectors.member_client import new_member_client
from contracts.connectors import MemberHttpClient


@pytest.fixture
def peer_ports() -> set[int]:
    """The client ports the registry's ``/slow`` saw: one per connection."""
    return set()


@pytest.fixture
async def member(peer_ports: set[int]) -> AsyncIterator[str]:
    """A registry on loopback that sets a cookie on every answer and echoes the cookies it was sent."""

    async def answer(request: web.Request) -> web.Response:
        response = web.json_response({"cookie": request.headers.get("Cookie")})
        response.set_cookie("route", "caller-1-backend", path="/")
        return response

    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPFound("/persons")

    async def slow(request: web.Request) -> web.Response:
        peer_ports.add(request.transport.get_extra_info("peername")[1] if request.transport else 0)
        await asyncio.sleep(0.2)
        return web.json_response({})

    app = web.Application()
    app.router.add_get("/persons", answer)
    app.router.add_get("/moved", moved)
    app.router.add_get("/slow", slow)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        # By name: a default cookie jar takes no cookie from an IP address, so the control below would not
        # keep it either.
        yield f"http://localhost:{port}"
    finally:
        await runner.cleanup()


async def _cookies_sent(client: MemberHttpClient, base: str) -> list[str | None]:
    seen = []
    for _ in range(2):
        answer = await client.get(f"{base}/persons", {}, limit=1024, error_limit=1024)
        assert answer.status == 200
        assert answer.content_type == "application/json"
        seen.append(msgspec.json.decode(answer.body)["cookie"])
    return seen


async def test_the_control_keeps_the_cookie(member: str) -> None:
    """The registry does set one, and a default aiohttp session keeps it."""
    async with aiohttp.ClientSession() as ordinary:
        for expected in (None, "route=caller-1-backend"):
            async with ordinary.get(f"{member}/persons") as response:
                assert (await response.json())["cookie"] == expected


@pytest.mark.parametrize("kind", ["aiohttp", "pyreqwest"])
async def test_a_members_cookie_is_not_sent_back(member: str, kind: str) -> None:
    client = new_member_client(kind, 4)  # type: ignore[arg-type]
    try:
        assert await _cookies_sent(client, member) == [None, None]
    finally:
        await client.close()


@pytest.mark.parametrize("kind", ["aiohttp", "pyreqwest"])
async def test_a_redirect_is_answered_not_followed(member: str, kind: str) -> None:
    client = new_member_client(kind, 4)  # type: ignore[arg-type]
    try:
        answer = await client.get(f"{member}/moved", {}, limit=1024, error_limit=1024)
        assert answer.status == 302
    finally:
        await client.close()


@pytest.mark.parametrize("kind", ["aiohttp", "pyreqwest"])
async def test_connections_are_capped(member: str, peer_ports: set[int], kind: str) -> None:
    """Ten calls at once over a client of 4 connections: all answered, over 4 connections at most."""
    client = new_member_client(kind, 4)  # type: ignore[arg-type]
    try:
        answers = await asyncio.gather(
            *(client.get(f"{member}/slow", {}, limit=1024, error_limit=1024) for _ in range(10))
        )
    finally:
        await client.close()
    assert [a.status for a in answers] == [200] * 10
    assert 1 <= len(peer_ports) <= 4


@pytest.mark.parametrize("kind", ["aiohttp", "pyreqwest"])
async def test_a_call_cut_off_by_its_deadline_frees_its_connection(member: str, kind: str) -> None:
    """Calls cancelled mid-flight (as a deadline does) give their connection back: with a limit of 2, the
    calls after six cut-off ones are still answered (a leak would leave them waiting for a connection)."""
    client = new_member_client(kind, 2)  # type: ignore[arg-type]
    try:
        for _ in range(6):
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.05):
                    await client.get(f"{member}/slow", {}, limit=1024, error_limit=1024)
        async with asyncio.timeout(10):  # only a leak would wait this long
            answers = await asyncio.gather(
                *(client.get(f"{member}/persons", {}, limit=1024, error_limit=1024) for _ in range(3))
            )
        assert [a.status for a in answers] == [200] * 3
    finally:
        await client.close()
