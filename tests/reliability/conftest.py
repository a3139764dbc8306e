"""Races and crashes run against the same fixtures as the integration tests: a migrated database per test,
two member institutions with real keys, and the app. Tests that crash the database get a server of their
own (``own_database``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from integration.auth.conftest import client, reader, tenants, uni_a, uni_b
from integration.conftest import settings, spans, telemetry
from reliability.own_database import OwnDatabase

__all__ = ["client", "reader", "settings", "spans", "telemetry", "tenants", "uni_a", "uni_b"]


@pytest.fixture
async def own_database(tmp_path: Path) -> AsyncIterator[OwnDatabase]:
    database = OwnDatabase(tmp_path / "db")
    try:
        await database.migrate()
        yield database
    finally:
        database.close()
