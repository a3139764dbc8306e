"""The lookup tests' world (three member registries and the gateway), reused: pathways are a lookup plus
recognition."""

from integration.lookup.conftest import cluster, settings, world

__all__ = ["cluster", "settings", "world"]
