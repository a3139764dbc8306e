"""``deadline_timer``: one armed timer per task for nested deadlines, each deadline still kept; ``hold_until``
for a task its owner cancels."""

from __future__ import annotations

import asyncio
import gc
import time
import weakref

import pytest

from adapters.deadlines import deadline_timer, hold_until


async def test_an_inner_deadline_no_earlier_arms_no_timer_and_the_outer_one_ends_the_call(
    armed: list[float],
) -> None:
    deadline = time.monotonic() + 0.05
    seen: list[str] = []
    started = time.monotonic()

    async def layered() -> None:
        async with deadline_timer(deadline):
            try:
                async with deadline_timer(deadline), deadline_timer(deadline + 1):
                    await asyncio.Event().wait()  # hangs, arming no timer of its own
            except asyncio.CancelledError:
                seen.append("cancelled")  # the inner layers see the outer timer's cancellation go by
                raise

    with pytest.raises(TimeoutError):
        await layered()
    assert seen == ["cancelled"]
    assert len(armed) == 1
    assert 0.04 <= time.monotonic() - started < 0.5


async def test_an_earlier_inner_deadline_arms_its_own_timer_and_raises_inside(armed: list[float]) -> None:
    outer = time.monotonic() + 5
    started = time.monotonic()
    async with deadline_timer(outer):
        with pytest.raises(TimeoutError):
            async with deadline_timer(started + 0.03):
                await asyncio.Event().wait()  # hangs, arming no timer of its own
        # the outer deadline is held again once the inner layer is done: an inner layer at it arms nothing
        async with deadline_timer(outer):
            await asyncio.sleep(0)
    assert len(armed) == 2
    assert 0.02 <= time.monotonic() - started < 0.5


async def test_a_task_started_inside_keeps_its_own_deadline() -> None:
    started = time.monotonic()
    deadline = started + 0.03

    async def child() -> None:
        async with deadline_timer(deadline):  # the same deadline as its parent's, in a task of its own
            await asyncio.Event().wait()  # hangs, arming no timer of its own

    started_tasks: list[asyncio.Task[None]] = []

    async def parent() -> None:
        async with deadline_timer(deadline):
            started_tasks.append(asyncio.create_task(child()))  # inherits the context, not the timer
            await asyncio.Event().wait()

    with pytest.raises(TimeoutError):
        await parent()
    (task,) = started_tasks
    done, _ = await asyncio.wait([task], timeout=1)
    assert task in done
    assert isinstance(task.exception(), TimeoutError)
    assert time.monotonic() - started < 0.5


async def test_a_passed_deadline_ends_the_call_at_its_first_wait() -> None:
    with pytest.raises(TimeoutError):
        async with deadline_timer(time.monotonic() - 1):
            await asyncio.Event().wait()  # hangs, arming no timer of its own


async def test_a_task_held_until_a_deadline_arms_timers_only_for_earlier_ones(armed: list[float]) -> None:
    deadline = time.monotonic() + 5

    async def held() -> None:
        with hold_until(deadline):  # its owner cancels it then
            async with deadline_timer(deadline), deadline_timer(deadline + 1):
                await asyncio.sleep(0)
            assert armed == []
            with pytest.raises(TimeoutError):
                async with deadline_timer(time.monotonic() + 0.02):
                    await asyncio.Event().wait()  # hangs, arming no timer of its own
            assert len(armed) == 1
        async with deadline_timer(deadline):  # no longer held after the block: it arms its own
            await asyncio.sleep(0)
        assert len(armed) == 2

    await asyncio.create_task(held())
    async with deadline_timer(deadline):  # the caller's task was not held: it arms its own
        await asyncio.sleep(0)
    assert len(armed) == 3


async def test_a_held_task_is_freed_by_reference_counting_alone() -> None:
    """Holding names the task in its own context; once the block is left no cycle keeps the task alive."""
    collected: list[bool] = []

    async def held() -> None:
        with hold_until(time.monotonic() + 5):
            await asyncio.sleep(0)

    gc.disable()  # only reference counting may free it
    try:
        task = asyncio.create_task(held())
        await task
        weakref.finalize(task, collected.append, True)
        del task
        for _ in range(3):  # the loop's handles that named the task have run
            await asyncio.sleep(0)
        assert collected == [True]
    finally:
        gc.enable()
