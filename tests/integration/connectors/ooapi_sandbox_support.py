"""Constants shared by the OOAPI sandbox tests (a module of its own, so tests never import a conftest)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from adapters.connectors.sandbox import SharedLearner, esi_urn

OOAPI_DOC = Path(__file__).resolve().parents[3] / ".." / "shared" / "fixtures" / "ooapi-v6" / "ooapiv6.json"
ISSUER = "https://gw.test"
AUDIENCE = "https://ooapi.uni-a.test"
SCOPE = "ooapi:read"
SHARED = (SharedLearner(esi=esi_urn("uni-a.test", "4711"), given_name="Sam", surname="Okafor", passed=2),)

# Builds an access token; keyword arguments override claims (None drops one), ``typ`` or the signing ``key``.
Mint = Callable[..., str]
