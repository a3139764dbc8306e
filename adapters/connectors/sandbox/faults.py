"""Switchable faults of the sandbox, set from tests (Python API) or over HTTP (the admin endpoint).

Modes: ``none``; ``slow`` (answer after ``delay_ms``); ``error`` (503 with a ``Problem`` body); ``hang``
(accept the request and never answer, until the fault is cleared or the sandbox stops); ``flapping``
(alternate: first request ok, second 503, ...); ``malformed`` (200 with ``malformed_kind`` ``not-json``,
an HTML page labelled ``application/json``, or ``schema``, JSON that breaks the OOAPI ``Pagination``
and resource schemas).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Literal, get_args

import msgspec

__all__ = ["FaultConfig", "FaultMode", "FaultState", "MalformedKind"]

FaultMode = Literal["none", "slow", "error", "hang", "flapping", "malformed"]
MalformedKind = Literal["not-json", "schema"]
MAX_DELAY_MS = 600_000


class FaultConfig(msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """The admin endpoint's body: ``{"mode": "slow", "delayMs": 500}``."""

    mode: FaultMode = "none"
    delay_ms: int = 0
    malformed_kind: MalformedKind = "not-json"

    def __post_init__(self) -> None:
        if not 0 <= self.delay_ms <= MAX_DELAY_MS:
            raise ValueError(f"delayMs must be within 0..{MAX_DELAY_MS}")


@dataclass(frozen=True, slots=True)
class Action:
    """What to do with one request: ``proceed`` (after ``delay`` seconds), ``error``, ``hang``,
    ``malformed``."""

    kind: Literal["proceed", "error", "hang", "malformed"]
    delay: float = 0.0
    malformed_kind: MalformedKind = "not-json"


class FaultState:
    """The current fault; ``decide()`` is called once per OOAPI request."""

    def __init__(self) -> None:
        self.config = FaultConfig()
        self._flap = 0
        self._release = asyncio.Event()

    def set(self, mode: FaultMode, *, delay_ms: int = 0, malformed_kind: MalformedKind = "not-json") -> None:
        """Switch to ``mode`` (and release requests held by an earlier ``hang``)."""
        if mode not in get_args(FaultMode):
            raise ValueError(f"unknown fault mode {mode!r}")
        self.apply(FaultConfig(mode=mode, delay_ms=delay_ms, malformed_kind=malformed_kind))

    def apply(self, config: FaultConfig) -> None:
        self.release_hung()
        self.config = config
        self._flap = 0

    def clear(self) -> None:
        self.apply(FaultConfig())

    def release_hung(self) -> None:
        """Let requests held by ``hang`` go (they then fail with 503); used on change and on shutdown."""
        self._release.set()
        self._release = asyncio.Event()

    def decide(self) -> Action:
        cfg = self.config
        if cfg.mode == "slow":
            return Action("proceed", delay=cfg.delay_ms / 1000)
        if cfg.mode == "error":
            return Action("error")
        if cfg.mode == "hang":
            return Action("hang")
        if cfg.mode == "malformed":
            return Action("malformed", malformed_kind=cfg.malformed_kind)
        if cfg.mode == "flapping":
            self._flap += 1
            return Action("proceed") if self._flap % 2 == 1 else Action("error")
        return Action("proceed")

    async def hang(self) -> None:
        """Wait until the fault changes or the sandbox stops."""
        await self._release.wait()

    def as_json(self) -> dict[str, Any]:
        return msgspec.to_builtins(self.config)  # type: ignore[no-any-return]
