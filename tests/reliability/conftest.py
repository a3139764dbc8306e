"""Races and crashes run against the same fixtures as the integration tests: a migrated database per test,
two member institutions with real keys, and the app."""

from integration.auth.conftest import client, reader, tenants, uni_a, uni_b
from integration.conftest import settings, spans, telemetry

__all__ = ["client", "reader", "settings", "spans", "telemetry", "tenants", "uni_a", "uni_b"]
