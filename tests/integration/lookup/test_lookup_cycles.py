"""A lookup's objects are freed by reference counting alone: it leaves no reference cycles for the garbage
collector. ``gateway.heap`` sets the workers' collector threshold on that basis: a cycle made on every lookup
(five a lookup once did, through ``hold_until``) makes the collector run, and pause the worker, again and
again under load."""

from __future__ import annotations

import asyncio
import gc
import types
from pathlib import Path

import pytest
from integration.lookup.conftest import ESI, OTHER, World

import gateway

PATH = f"/v1/learners/{ESI}/credentials"
PURPOSE = {"purpose": "credit-transfer"}
_OURS = ("gateway", "adapters", "contracts")
# The member registries run in this process too (their own thread and loop): not the gateway's request path.
_NOT_THE_GATEWAY = "adapters.connectors.sandbox"
_SOURCES = tuple(str(Path(gateway.__file__).parents[1] / package) for package in _OURS)


def _code_of(thing: object) -> types.CodeType | None:
    if isinstance(thing, asyncio.Task):
        thing = thing.get_coro()
    if isinstance(thing, types.CoroutineType):
        return thing.cr_code
    if isinstance(thing, types.FrameType):
        return thing.f_code
    if isinstance(thing, types.FunctionType):
        return thing.__code__
    return None


def _ours(thing: object) -> str | None:
    """What ``thing`` is, if the gateway's own code made it (an instance of its classes, or a task, coroutine,
    frame or function of its code)."""
    module = type(thing).__module__
    if module.startswith(_OURS) and not module.startswith(_NOT_THE_GATEWAY):
        return f"{module}.{type(thing).__qualname__}"
    code = _code_of(thing)
    if code is not None and code.co_filename.startswith(_SOURCES) and "sandbox" not in code.co_filename:
        return f"{type(thing).__name__} of {code.co_qualname} ({Path(code.co_filename).name})"
    return None


@pytest.mark.parametrize("fault", ["none", "error", "malformed"])
async def test_lookups_leave_no_reference_cycles_of_the_gateways_own(world: World, fault: str) -> None:
    """With every member answering, and with one failing (its error is the lookup's outcome for it): an
    exception caught on the way must not leave its frames in a cycle either."""
    await world.consent()
    headers = await world.token(world.caller)
    world.cluster.set_fault(OTHER, fault)
    for _ in range(3):  # warm: caches, prepared statements, the members' kept courses
        assert (await world.http.get(PATH, params=PURPOSE, headers=headers)).status_code == 200
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)  # what the collector finds is kept in gc.garbage, not freed
    try:
        for _ in range(10):
            response = await world.http.get(PATH, params=PURPOSE, headers=headers)
            assert response.status_code == 200
            assert response.json()["partial"] is (fault != "none")
        gc.collect()
        found = sorted({name for thing in gc.garbage if (name := _ours(thing)) is not None})
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert found == []
