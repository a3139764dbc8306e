"""JSON Schema export of the public contracts (v1)."""

from __future__ import annotations

from typing import Any

import msgspec

from contracts.credentials import CredentialRecord, MicroCredential
from contracts.credits import CreditValue, Grade, Level
from contracts.members import Member, MemberProfile
from contracts.problems import Problem

__all__ = ["CONTRACT_VERSION", "EXPORTED", "json_schemas"]

CONTRACT_VERSION = "v1"

EXPORTED: tuple[type[Any], ...] = (
    Member,
    MemberProfile,
    CreditValue,
    Level,
    Grade,
    MicroCredential,
    CredentialRecord,
    Problem,
)


def json_schemas() -> dict[str, dict[str, Any]]:
    """One self-contained JSON Schema (2020-12) document per exported contract, keyed by contract name."""
    out: dict[str, dict[str, Any]] = {}
    for model in EXPORTED:
        (ref,), components = msgspec.json.schema_components([model], ref_template="#/$defs/{name}")
        name = model.__name__
        out[name] = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"urn:consortium-gateway:contracts:{CONTRACT_VERSION}:{name}",
            "title": name,
            **ref,
            "$defs": components,
        }
    return out
