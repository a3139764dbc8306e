"""A small webhook receiver, as a member registry would run one: it verifies each message (Standard
Webhooks v1a against the gateway's published keys), de-duplicates by ``webhook-id`` and keeps what it
accepted. The demo runs one per demo member on loopback; tests use it as the far end of the relay.

A duplicate delivery (at least once, R30) is answered 200 and not processed again, so the receiver's
effect count equals the event count.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp
import msgspec
from aiohttp import web

from gateway.webhooks.standard_webhooks import InvalidWebhook, WebhookVerifier

__all__ = ["JwksVerifier", "Receiver", "ReceiverThread"]

log = logging.getLogger(__name__)

# Refetch the key set at most this often when a signature does not verify (rotation without a stampede).
_REFETCH_COOLDOWN = 5.0
_MAX_BODY = 64 * 1024


class JwksVerifier:
    """A verifier over keys fetched from a JWKS URL; fetched on first use and again (at most once per
    cooldown) when a signature does not verify with the keys it has."""

    def __init__(self, jwks_url: str, *, tolerance: int = 300) -> None:
        self.jwks_url = jwks_url
        self.tolerance = tolerance
        self._verifier: WebhookVerifier | None = None
        self._fetched_at = 0.0

    async def _refresh(self) -> WebhookVerifier:
        async with (
            aiohttp.ClientSession() as session,
            session.get(
                self.jwks_url, allow_redirects=False, timeout=aiohttp.ClientTimeout(total=5)
            ) as response,
        ):
            response.raise_for_status()
            jwks = msgspec.json.decode(await response.read())
        self._verifier = WebhookVerifier.from_jwks(jwks, tolerance=self.tolerance)
        self._fetched_at = time.monotonic()
        return self._verifier

    async def verify(self, headers: dict[str, str], body: bytes) -> str:
        verifier = self._verifier or await self._refresh()
        try:
            return verifier.verify(headers, body)
        except InvalidWebhook as exc:
            if exc.reason != "no-valid-signature" or time.monotonic() - self._fetched_at < _REFETCH_COOLDOWN:
                raise
        return (await self._refresh()).verify(headers, body)


class Verifier(Protocol):
    def verify(self, headers: dict[str, str], body: bytes) -> str:
        """The message id of an authentic, fresh message; ``InvalidWebhook`` otherwise."""
        ...


@dataclass
class Receiver:
    """One member's endpoint. ``status`` decides what it answers (tests switch it to 503, 410, ...)."""

    member: str
    verifier: JwksVerifier | Verifier
    status: Callable[[], int] = lambda: 204
    announce: bool = False
    location: str | None = None  # sent with a 3xx answer (tests: the relay must not follow it)
    accepted: dict[str, dict[str, Any]] = field(default_factory=dict)
    deliveries: int = 0
    rejected: collections.Counter[str] = field(default_factory=collections.Counter)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.content.read(_MAX_BODY + 1)
        if len(body) > _MAX_BODY:
            return web.Response(status=413)
        self.deliveries += 1
        headers = dict(request.headers)
        try:
            if isinstance(self.verifier, JwksVerifier):
                msg_id = await self.verifier.verify(headers, body)
            else:
                msg_id = self.verifier.verify(headers, body)
        except InvalidWebhook as exc:
            self.rejected[exc.reason] += 1
            return web.Response(status=401, text=exc.reason)
        status = self.status()
        if 300 <= status < 400 and self.location:
            return web.Response(status=status, headers={"Location": self.location})
        if status >= 300:
            return web.Response(status=status)
        if msg_id not in self.accepted:  # de-duplicate by webhook-id: process once
            event = msgspec.json.decode(body)
            self.accepted[msg_id] = event
            if self.announce:
                print(
                    f"webhook -> {self.member}: {event.get('type')} request {event.get('request_id')}"
                    f" v{event.get('version')}",
                    flush=True,
                )
        return web.Response(status=status)

    async def list_received(self, _: web.Request) -> web.Response:
        return web.json_response(list(self.accepted.values()))

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/webhooks", self.handle)
        app.router.add_get("/webhooks", self.list_received)
        return app


class ReceiverThread:
    """Receivers served on loopback ports from a thread with its own event loop, so that they answer
    while the caller's loop (or a blocking server) is busy."""

    def __init__(self, receivers: list[Receiver], host: str = "127.0.0.1") -> None:
        self.receivers = receivers
        self.host = host
        self.ports: dict[str, int] = {}
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stopped = threading.Event()
        self._runners: list[web.AppRunner] = []
        self._thread = threading.Thread(target=self._run, name="webhook-receivers", daemon=True)

    def url(self, member: str) -> str:
        return f"http://{self.host}:{self.ports[member]}/webhooks"

    def start(self) -> ReceiverThread:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("webhook receivers did not start")
        return self

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._start())
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self._cleanup())
        self._loop.close()
        self._stopped.set()

    async def _start(self) -> None:
        for receiver in self.receivers:
            runner = web.AppRunner(receiver.app(), access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, self.host, 0)
            await site.start()
            self.ports[receiver.member] = runner.addresses[0][1]
            self._runners.append(runner)

    async def _cleanup(self) -> None:
        for runner in self._runners:
            await runner.cleanup()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._stopped.wait(10)
