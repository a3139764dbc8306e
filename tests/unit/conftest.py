"""Fixtures shared by unit tests of several packages."""

from __future__ import annotations

import asyncio

import pytest


@pytest.fixture
async def armed(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The loop times of every timer armed through ``loop.call_at`` while the test runs."""
    loop = asyncio.get_running_loop()
    times: list[float] = []
    call_at = loop.call_at

    def counting(when: float, *args: object, **kwargs: object) -> asyncio.TimerHandle:
        times.append(when)
        return call_at(when, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(loop, "call_at", counting)
    return times
