"""The outbox relay (R30): claims due webhook deliveries, signs them (Standard Webhooks v1a with the
gateway's ``webhook`` key, and v1 with each shared secret the member was issued), sends them through the
SSRF-hardened fetcher (R18), then records what happened.

Crash-safe by construction (R33): a claim is a lease, not a hand-off, so a relay killed at any point
leaves at worst a delivery that is sent again when the lease ends; deliveries are only marked done after
the receiver's 2xx. Any number of relays (one per gateway worker, or ``consortium-gateway relay``) run
side by side: ``FOR UPDATE SKIP LOCKED`` gives each its own rows.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from opentelemetry.trace import NoOpTracer, Tracer

from contracts.errors import OutboundError, OutboundRefused
from gateway.auth.keys import ensure_active_keys, load_key_ring
from gateway.config import Settings
from gateway.db.tenancy import ALL, acquire_for
from gateway.outbound.fetch import OutboundPolicy, SafeFetcher, canonical_origin
from gateway.webhooks import store
from gateway.webhooks.backoff import retry_delay, verdict
from gateway.webhooks.secrets import SecretStore
from gateway.webhooks.standard_webhooks import webhook_headers

__all__ = ["Relay", "RelayConfig"]

log = logging.getLogger(__name__)

# What a receiver may answer: enough for a problem document, never a reason to read a large body.
_MAX_RESPONSE = 64 * 1024
_KEY_REFRESH = 30.0
_HOUSEKEEPING = 60.0


@dataclass(frozen=True, slots=True)
class RelayConfig:
    batch: int = 50
    concurrency: int = 16
    poll_interval: float = 0.5
    # R30: a request timeout of 15-30 s.
    timeout: float = 15.0
    retry_base: float = 5.0
    retry_cap: float = 6 * 3600.0
    # About 3 days, as the Standard Webhooks example schedule (which reaches 75 h).
    max_age: float = 3 * 86400.0
    allow_loopback: bool = False
    keep_idempotency_keys: float = 25 * 3600.0  # R23: at least 24 h
    keep_delivered: float = 7 * 86400.0

    @classmethod
    def from_settings(cls, settings: Settings) -> RelayConfig:
        return cls(
            poll_interval=settings.relay_poll_interval,
            timeout=settings.webhook_timeout,
            retry_base=settings.webhook_retry_base,
            allow_loopback=settings.outbound_allow_loopback,
        )

    @property
    def lease(self) -> float:
        """How long a claimed delivery is ours: longer than any attempt can take."""
        return 2 * self.timeout + 1


class Relay:
    def __init__(
        self,
        pool: asyncpg.Pool,
        keys_dir: Path,
        config: RelayConfig | None = None,
        *,
        tracer: Tracer | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.pool = pool
        self.keys_dir = keys_dir
        self.config = config or RelayConfig()
        self._tracer = tracer or NoOpTracer()
        self._rng = rng or random.SystemRandom()
        self._fetchers: dict[str, tuple[str, SafeFetcher]] = {}
        self._keys: list[Ed25519PrivateKey] = []
        self._secrets = SecretStore(keys_dir)
        self._keys_at = 0.0
        self._housekept = 0.0

    async def run(self) -> None:
        """Deliver until cancelled. Errors are logged and retried on the next tick."""
        try:
            while True:
                try:
                    claimed = await self.run_once()
                    await self._housekeeping()
                except Exception:  # a background loop outlives any one failure (database down, ...)
                    log.warning("webhook relay tick failed; retrying", exc_info=True)
                    claimed = 0
                if claimed < self.config.batch:
                    await asyncio.sleep(self.config.poll_interval)
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        for _, fetcher in self._fetchers.values():
            await fetcher.aclose()
        self._fetchers.clear()

    async def run_once(self) -> int:
        """Claim one batch of due deliveries and attempt each; the number claimed."""
        async with acquire_for(self.pool, ALL) as conn:
            claimed = await store.claim(conn, limit=self.config.batch, lease=self.config.lease)
            if claimed:
                await self._load_keys(conn)
        if not claimed:
            return 0
        slots = asyncio.Semaphore(self.config.concurrency)

        async def one(item: store.Claimed) -> None:
            async with slots:
                await self._deliver(item)

        await asyncio.gather(*(one(item) for item in claimed))
        return len(claimed)

    async def _load_keys(self, conn: asyncpg.Connection) -> None:
        if self._keys and time.monotonic() - self._keys_at < _KEY_REFRESH:
            return
        ring = await load_key_ring(conn, self.keys_dir)
        if "webhook" not in ring.signers:
            await ensure_active_keys(conn, self.keys_dir, {"webhook": "Ed25519"})
            ring = await load_key_ring(conn, self.keys_dir)
        key = ring.signers["webhook"].key.private_key
        assert isinstance(key, Ed25519PrivateKey)
        self._keys, self._keys_at = [key], time.monotonic()

    def _fetcher(self, member: str, url: str) -> SafeFetcher:
        origin = canonical_origin(url)
        known = self._fetchers.get(member)
        if known is not None and known[0] == origin:
            return known[1]
        if known is not None:  # the member registered another URL: a new allowlist, a new pool
            asyncio.get_running_loop().create_task(known[1].aclose())
        fetcher = SafeFetcher(
            OutboundPolicy.for_origins(
                [origin],
                timeout=self.config.timeout,
                max_bytes=_MAX_RESPONSE,
                allow_insecure_loopback=self.config.allow_loopback,
            ),
            tracer=self._tracer,
            connection_limit=4,
        )
        self._fetchers[member] = (origin, fetcher)
        return fetcher

    async def _deliver(self, item: store.Claimed) -> None:
        if item.url is None or item.url == item.disabled_url:
            reason = "no-endpoint" if item.url is None else "endpoint-disabled"
            await self._record(store.mark_dead, item.event_id, item.member, None, reason)
            return
        status: int | None = None
        error = ""
        try:
            headers = webhook_headers(
                str(item.event_id), item.payload, self._keys, secrets=self._secrets.keys(item.member)
            )
            response = await self._fetcher(item.member, item.url).request(
                "POST", item.url, headers=headers, body=item.payload, max_bytes=_MAX_RESPONSE
            )
            status = response.status
            error = f"status-{status}"
        except OutboundRefused as exc:
            if exc.reason != "redirect":  # the URL itself is not allowed (R18): retrying cannot help
                await self._record(store.mark_dead, item.event_id, item.member, None, f"refused-{exc.reason}")
                return
            status, error = exc.upstream_status, "redirect"
        except OutboundError as exc:
            error = exc.reason
        except ValueError:
            await self._record(store.mark_dead, item.event_id, item.member, None, "bad-url")
            return
        outcome = verdict(None if error == "redirect" else status)
        if outcome == "delivered" and status is not None:
            await self._record(store.mark_delivered, item.event_id, item.member, status)
        elif outcome == "gone":
            async with acquire_for(self.pool, ALL) as conn:
                await store.disable_endpoint(conn, item.member, item.url, "410 Gone")
            log.warning("webhook endpoint answered 410 Gone; disabled", extra={"member": item.member})
        elif outcome == "refused":
            await self._record(store.mark_dead, item.event_id, item.member, status, error)
        else:
            age = time.time() - item.occurred_at.timestamp()
            if age >= self.config.max_age:
                await self._record(store.mark_dead, item.event_id, item.member, status, f"expired-{error}")
                return
            delay = retry_delay(
                item.attempts, base=self.config.retry_base, cap=self.config.retry_cap, rng=self._rng
            )
            async with acquire_for(self.pool, ALL) as conn:
                await store.reschedule(conn, item.event_id, item.member, delay, status, error)

    async def _record(self, write: Callable[..., Awaitable[None]], *args: object) -> None:
        async with acquire_for(self.pool, ALL) as conn:
            await write(conn, *args)

    async def _housekeeping(self) -> None:
        now = time.monotonic()
        if now - self._housekept < _HOUSEKEEPING:
            return
        self._housekept = now
        async with acquire_for(self.pool, ALL) as conn:
            await store.purge(
                conn,
                keys_after=self.config.keep_idempotency_keys,
                delivered_after=self.config.keep_delivered,
            )
