"""Races and crashes run against the same fixtures as the integration tests: a migrated database per test,
two member institutions with real keys, and the app. Tests that crash the database get a server of their
own (``own_database``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis.stateful import RuleBasedStateMachine, run_state_machine_as_test
from integration.auth.conftest import client, reader, tenants, uni_a, uni_b
from integration.conftest import settings, spans, telemetry
from litestar.testing import TestClient
from oauth_helpers import MemberClient
from reliability.own_database import OwnDatabase

from gateway.app import create_app
from gateway.config import Settings
from gateway.telemetry import Telemetry

__all__ = [
    "client",
    "reader",
    "run_machine",
    "settings",
    "spans",
    "sync_bearer",
    "telemetry",
    "tenants",
    "uni_a",
    "uni_b",
]


@pytest.fixture
async def own_database(tmp_path: Path) -> AsyncIterator[OwnDatabase]:
    database = OwnDatabase(tmp_path / "db")
    try:
        await database.migrate()
        yield database
    finally:
        database.close()


@pytest.fixture
def sync_client(settings: Settings, telemetry: Telemetry, tenants: str) -> Iterator[TestClient[Any]]:
    """The app through a synchronous test client (Hypothesis state machines run their steps in sync)."""
    with TestClient(create_app(settings, telemetry=telemetry)) as client:
        yield client


def sync_bearer(client: TestClient[Any], member: MemberClient) -> dict[str, str]:
    """The ``Authorization`` header of a fresh token for ``member``."""
    response = client.post("/oauth/token", data=member.token_form())
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def run_machine(
    machine: type[RuleBasedStateMachine],
    *,
    examples: int,
    steps: int,
    explore: bool,
    also_suppress: tuple[HealthCheck, ...] = (),
) -> None:
    """Run a state machine's programs: the same ones every run (so a coverage check cannot pass or fail by
    chance) unless ``explore``; no per-step deadline (steps go through HTTP and PostgreSQL)."""
    run_state_machine_as_test(
        machine,
        settings=hypothesis_settings(
            max_examples=examples,
            derandomize=not explore,
            stateful_step_count=steps,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, *also_suppress],
        ),
    )
