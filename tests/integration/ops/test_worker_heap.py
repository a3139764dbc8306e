"""A serving worker's app settles its heap once start-up is done; apps built by ``create_app`` (tests, tools)
do not. Each app runs its lifespan in a child interpreter, so this test process's heap stays as it is."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

_CHILD = """
import asyncio, gc, json, sys
from gateway.app import create_app
from gateway.serve import worker_app

async def main():
    app = worker_app() if sys.argv[1] == "worker" else create_app()
    before = gc.get_freeze_count(), gc.get_threshold()
    async with app.lifespan():
        during = gc.get_freeze_count(), gc.get_threshold()
        pool_ready = app.state.pool is not None
    print(json.dumps({"before": before, "during": during, "pool_ready": pool_ready}))

asyncio.run(main())
"""


def _lifespan(kind: str, database_url: str, keys: Path, threshold: str) -> dict[str, list[object]]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "GATEWAY_MIGRATE_ON_START": "false",
        "GATEWAY_KEYS_DIR": str(keys),
        "GATEWAY_RELAY_ENABLED": "false",
        "GATEWAY_GC_GEN0_THRESHOLD": threshold,
        "OTEL_TRACES_EXPORTER": "none",
    }
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, kind], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    result: dict[str, list[object]] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize(("threshold", "expected"), [("12345", 12345), ("0", None)])
def test_a_worker_freezes_its_start_up_heap_and_sets_the_threshold(
    database_url: str, tmp_path: Path, threshold: str, expected: int | None
) -> None:
    result = _lifespan("worker", database_url, tmp_path / "keys", threshold)
    frozen_before, default = result["before"]
    frozen, during = result["during"]
    assert result["pool_ready"] is True
    assert frozen_before == 0
    # The app, its pool and its telemetry: tens of thousands of objects the collector no longer walks.
    assert isinstance(frozen, int)
    assert frozen > 20_000
    assert isinstance(default, list)
    assert isinstance(during, list)
    assert during == [expected if expected is not None else default[0], default[1], default[2]]


def test_an_app_of_create_app_leaves_the_heap_alone(database_url: str, tmp_path: Path) -> None:
    result = _lifespan("app", database_url, tmp_path / "keys", "12345")
    assert result["during"] == [0, result["before"][1]]
