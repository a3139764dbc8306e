"""Closing decided requests once their appeal window has ended ("closed after the appeal window").

A background task in every serving process. Each tick closes up to ``batch`` requests (``service.
close_expired``); a full batch means more are due, so the next tick follows at once. Several processes may
tick together: each closure is a conditional write, so a request is closed once and the others skip it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable

import asyncpg
from opentelemetry.trace import NoOpTracer, Tracer

from gateway.db.tenancy import ALL, acquire_for
from gateway.mobility import service

__all__ = ["Closer"]

log = logging.getLogger(__name__)


class Closer:
    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        interval: float,
        batch: int = 100,
        tracer: Tracer | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.pool = pool
        self.interval = interval
        self.batch = batch
        self._tracer = tracer or NoOpTracer()
        self._clock = clock  # tests move time on; None is the wall clock

    async def run_once(self) -> int:
        """One tick: the number of requests it closed."""
        with self._tracer.start_as_current_span("mobility.close_expired") as span:
            async with acquire_for(self.pool, ALL) as conn:
                now = self._clock() if self._clock else None
                closed = await service.close_expired(conn, limit=self.batch, now=now)
            span.set_attribute("mobility.closed", closed)
        if closed:
            log.info("closed decided requests whose appeal window ended", extra={"closed": closed})
        return closed

    async def run(self) -> None:
        """Tick until cancelled; a failed tick (database down, ...) is logged and tried again next time."""
        while True:
            try:
                closed = await self.run_once()
            except Exception:
                log.warning("closing expired decisions failed; retrying", exc_info=True)
                closed = 0
            if closed < self.batch:
                await asyncio.sleep(self.interval)
