"""The session of a member's registry calls carries no state from one call to the next: a cookie the member
sets while answering one lookup does not go back to it with the next (another caller's)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from gateway.lookup.members import member_session


@pytest.fixture
async def member() -> AsyncIterator[str]:
    """A registry on loopback that sets a cookie on every answer and echoes the cookies it was sent."""

    async def answer(request: web.Request) -> web.Response:
        response = web.json_response({"cookie": request.headers.get("Cookie")})
        response.set_cookie("route", "caller-1-backend", path="/")
        return response

    app = web.Application()
    app.router.add_get("/persons", answer)
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


async def _cookies_sent(session: aiohttp.ClientSession, base: str) -> list[str | None]:
    seen = []
    for _ in range(2):
        async with session.get(f"{base}/persons") as response:
            assert response.status == 200
            seen.append((await response.json())["cookie"])
    return seen


async def test_a_members_cookie_is_not_sent_back(member: str) -> None:
    # The registry does set one, and a default session keeps it.
    async with aiohttp.ClientSession() as ordinary:
        assert await _cookies_sent(ordinary, member) == [None, "route=caller-1-backend"]
    async with member_session(4) as session:
        assert await _cookies_sent(session, member) == [None, None]
        assert session.connector is not None
        assert session.connector.limit == 4
