"""The OAuth scopes of the gateway API, and what each lets a member's client do."""

from __future__ import annotations

from typing import Literal

__all__ = ["SCOPES", "Scope"]

Scope = Literal[
    "members:read",
    "credentials:read",
    "learners:read",
    "learners:write",
    "recognition:read",
    "recognition:write",
    "mobility:read",
    "mobility:write",
    "mobility:decide",
    "consortium:admin",
]

SCOPES: dict[str, str] = {
    "members:read": "Read the consortium member directory.",
    "credentials:read": "Look up learners' credentials across members (with a lawful purpose).",
    "learners:read": "Read the consents and access report of learners linked to the member.",
    "learners:write": "Link the member's learners to consortium ids; record and withdraw their consent.",
    "recognition:read": "Evaluate recognition and read agreements and equivalences.",
    "recognition:write": "Manage the recognition agreements and equivalences the member is party to.",
    "mobility:read": "Read the mobility requests the member is party to.",
    "mobility:write": "Create and withdraw mobility requests.",
    "mobility:decide": "Registrar actions on mobility requests hosted by the member.",
    "consortium:admin": "Manage consortium-wide recognition agreements.",
}
