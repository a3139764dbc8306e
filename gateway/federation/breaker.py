"""The circuit-breaker layer (R26): stop calling a member that keeps failing; probe it off the request path.

States: ``closed`` (calls go through; failures are counted), ``open`` (calls fail fast with
``CircuitOpen``, nothing is sent), ``half-open`` (a background probe is running; calls still fail fast).

- It opens after ``failure_threshold`` failures within the last ``window`` seconds with no success in
  between (older failures are forgotten; a success resets the count).
- Only member faults count: ``MemberTimeout``, ``MemberUnavailable``, ``MemberResponseInvalid``, and a
  call cancelled at or after its own deadline (the deadline layer above cancels it). ``MemberRefused``
  (our credentials) and the gateway's own refusals (``CircuitOpen``, ``MemberOverloaded``) do not.
- Half-open probes never ride on a user's request: when the breaker opens it starts one background task
  that waits ``open_for`` seconds, then calls ``probe`` (e.g. the connector's ``health``) with its own
  deadline. Success closes the breaker; failure opens it for another ``open_for``.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Literal, TypeVar

from contracts.connectors import RegistryConnector
from contracts.errors import CircuitOpen, MemberResponseInvalid, MemberTimeout, MemberUnavailable
from gateway.federation.calls import Call

__all__ = ["BreakerState", "CircuitBreaker", "Probe", "health_probe"]

T = TypeVar("T")

BreakerState = Literal["closed", "open", "half-open"]

# Is the member back? Called with an absolute deadline; raising counts as "no".
Probe = Callable[[float], Awaitable[bool]]

DEADLINE_TOLERANCE = 0.001  # seconds: timers may fire a hair before the deadline they were set for
FAILURES: tuple[type[Exception], ...] = (MemberTimeout, MemberUnavailable, MemberResponseInvalid)


def health_probe(connector: RegistryConnector) -> Probe:
    """A probe that asks the connector's cheap ``health`` call."""

    async def probe(deadline: float) -> bool:
        return (await connector.health(deadline)).status == "up"

    return probe


class CircuitBreaker:
    """One member's breaker. ``clock`` measures the failure window; ``sleep`` paces the background probe."""

    def __init__(
        self,
        member: str,
        *,
        probe: Probe,
        failure_threshold: int = 5,
        window: float = 30.0,
        open_for: float = 5.0,
        probe_timeout: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        if window <= 0 or open_for <= 0 or probe_timeout <= 0:
            raise ValueError("window, open_for and probe_timeout must be positive")
        self.member = member
        self._probe = probe
        self._threshold = failure_threshold
        self._window = window
        self._open_for = open_for
        self._probe_timeout = probe_timeout
        self._clock = clock
        self._sleep = sleep
        self._state: BreakerState = "closed"
        self._failures: deque[float] = deque()
        self._open_until = 0.0
        self._probe_task: asyncio.Task[None] | None = None
        self.probes = 0  # how many background probes ran (for tests and metrics)

    @property
    def state(self) -> BreakerState:
        return self._state

    def wrap(self, call: Call[T]) -> Call[T]:
        async def guarded(deadline: float) -> T:
            self._check()
            try:
                result = await call(deadline)
            except FAILURES:
                self._record_failure()
                raise
            except asyncio.CancelledError:
                if self._clock() >= deadline - DEADLINE_TOLERANCE:  # cut off at its deadline: a timeout
                    self._record_failure()
                raise
            self._record_success()
            return result

        return guarded

    async def aclose(self) -> None:
        """Stop the background probe (at shutdown)."""
        task, self._probe_task = self._probe_task, None
        if task is not None and not task.done():
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                if not task.cancelled():  # our own caller is being cancelled, not just the probe
                    raise

    # --- state -----------------------------------------------------------------------------------------

    def _check(self) -> None:
        if self._state == "closed":
            return
        retry_after = max(0.0, self._open_until - self._clock())
        raise CircuitOpen(
            "the member's circuit breaker is open",
            member=self.member,
            reason=self._state,
            retry_after=retry_after,
        )

    def _record_success(self) -> None:
        if self._state == "closed":  # a call that started before the breaker opened does not close it
            self._failures.clear()

    def _record_failure(self) -> None:
        if self._state != "closed":
            return
        now = self._clock()
        while self._failures and now - self._failures[0] > self._window:
            self._failures.popleft()
        self._failures.append(now)
        if len(self._failures) >= self._threshold:
            self._open(now)

    def _open(self, now: float) -> None:
        self._state = "open"
        self._failures.clear()
        self._open_until = now + self._open_for
        if self._probe_task is None or self._probe_task.done():
            self._probe_task = asyncio.get_running_loop().create_task(
                self._probe_until_closed(), name=f"breaker-probe:{self.member}"
            )

    async def _probe_until_closed(self) -> None:
        while True:
            await self._sleep(self._open_for)
            self._state = "half-open"
            if await self._probe_once():
                self._state = "closed"
                self._failures.clear()
                return
            self._state = "open"
            self._open_until = self._clock() + self._open_for

    async def _probe_once(self) -> bool:
        self.probes += 1
        try:
            async with asyncio.timeout(self._probe_timeout):
                return bool(await self._probe(self._clock() + self._probe_timeout))
        except Exception:  # a failed probe is an answer ("still down"), never an error of its own
            return False
