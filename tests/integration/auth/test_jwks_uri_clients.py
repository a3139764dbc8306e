"""Clients registered with a jwks_uri: keys fetched from the member over HTTP, bounded refetching (R5)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import msgspec
import pytest
from aiohttp import web
from integration.auth.conftest import sync_text
from litestar.testing import AsyncTestClient
from oauth_helpers import MemberClient, new_key

from gateway.app import create_app
from gateway.config import Settings
from gateway.telemetry import Telemetry


class JwksServer:
    """A member's JWKS endpoint on loopback that counts how often it is asked."""

    def __init__(self) -> None:
        self.keys: list[dict[str, Any]] = []
        self.fetches = 0
        self.fail = False

    async def handle(self, _: web.Request) -> web.Response:
        self.fetches += 1
        if self.fail:
            return web.Response(status=500)
        return web.json_response({"keys": self.keys})


@pytest.fixture
def jwks_server() -> Iterator[tuple[JwksServer, str]]:
    """Served from its own thread and event loop, as a member's server would be: the test client blocks
    the test's loop while the app handles a request."""
    server = JwksServer()
    loop = asyncio.new_event_loop()
    started: concurrent.futures.Future[tuple[web.AppRunner, int]] = concurrent.futures.Future()

    async def start() -> None:
        app = web.Application()
        app.router.add_get("/jwks", server.handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        started.set_result((runner, site._server.sockets[0].getsockname()[1]))  # type: ignore[union-attr]

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(start(), loop)
    runner, port = started.result(timeout=10)
    yield server, f"http://127.0.0.1:{port}/jwks"
    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=10)
    loop.close()


@pytest.fixture
async def remote_client(database_url: str, jwks_server: tuple[JwksServer, str]) -> MemberClient:
    server, uri = jwks_server
    member = MemberClient("uni-r-registry", "uni-r.ac.uk", alg="ES256", scopes=["members:read"])
    server.keys = [member.key.as_dict(private=False)]
    text = (
        '[consortium]\nid = "test-consortium"\nname = "Test"\n'
        '[[members]]\nid = "uni-r.ac.uk"\nname = "R"\ncountry = "GB"\nframework = "uk-fheq"\n'
        'connector = { id = "ooapi" }\n'
        f'[[members.clients]]\nclient_id = "uni-r-registry"\nscopes = ["members:read"]\n'
        f'[members.clients.keys]\njwks_uri = "{uri}"\n'
    )
    await sync_text(database_url, text)
    return member


@pytest.fixture
async def remote_app(
    settings: Settings, telemetry: Telemetry, remote_client: MemberClient
) -> AsyncIterator[AsyncTestClient[Any]]:
    allowed = msgspec.structs.replace(settings, outbound_allow_loopback=True)
    async with AsyncTestClient(create_app(allowed, telemetry=telemetry)) as client:
        yield client


async def test_token_with_keys_from_jwks_uri(
    remote_app: AsyncTestClient[Any], remote_client: MemberClient, jwks_server: tuple[JwksServer, str]
) -> None:
    server, _ = jwks_server
    for _ in range(3):
        response = await remote_app.post("/oauth/token", data=remote_client.token_form())
        assert response.status_code == 200, response.text
    assert server.fetches == 1  # cached after the first fetch


async def test_garbage_and_unknown_kids_do_not_amplify(
    remote_app: AsyncTestClient[Any], remote_client: MemberClient, jwks_server: tuple[JwksServer, str]
) -> None:
    server, _ = jwks_server
    assert (await remote_app.post("/oauth/token", data=remote_client.token_form())).status_code == 200
    for index in range(50):
        stranger = new_key("ES256", f"unknown-{index}")
        assertion = remote_client.assertion(key=stranger, header={"kid": f"unknown-{index}"})
        response = await remote_app.post("/oauth/token", data=remote_client.token_form(assertion))
        assert response.status_code == 401
    for kid in ("../../etc/passwd", "' OR '1'='1", "k" * 200):
        assertion = remote_client.assertion(header={"kid": kid})
        assert (
            await remote_app.post("/oauth/token", data=remote_client.token_form(assertion))
        ).status_code == 401
    assert server.fetches <= 2  # one initial fetch, at most one refetch per 30 s cooldown


async def test_member_jwks_outage_keeps_known_keys_working(
    remote_app: AsyncTestClient[Any], remote_client: MemberClient, jwks_server: tuple[JwksServer, str]
) -> None:
    server, _ = jwks_server
    assert (await remote_app.post("/oauth/token", data=remote_client.token_form())).status_code == 200
    server.fail = True
    assert (await remote_app.post("/oauth/token", data=remote_client.token_form())).status_code == 200


async def test_loopback_jwks_is_refused_without_the_test_switch(
    settings: Settings, telemetry: Telemetry, remote_client: MemberClient, jwks_server: tuple[JwksServer, str]
) -> None:
    """R18: by default an http:// or loopback jwks_uri is never fetched."""
    server, _ = jwks_server
    async with AsyncTestClient(create_app(settings, telemetry=telemetry)) as client:
        response = await client.post("/oauth/token", data=remote_client.token_form())
    assert response.status_code == 401
    assert server.fetches == 0
