"""The demo's mobility requests: one in each of several states, written through the same service as the
API (pre-evaluated, audited, with events for the demo members' webhook receivers).

Every step has a fixed Idempotency-Key, so starting the demo again replays them instead of adding more.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import asyncpg
import msgspec

from adapters.frameworks import FrameworkRegistry
from gateway.auth.rfc9068 import Principal
from gateway.mobility import service
from gateway.mobility.creations import OnConnection
from gateway.mobility.models import (
    ActionBody,
    DecisionBody,
    InfoRequestBody,
    MobilityRequestCreate,
)
from gateway.mobility.workflow import Action
from gateway.recognition.service import EngineCache

__all__ = ["seed_mobility"]

HOME, HOST = "uni-caledonia.ac.uk", "uni-avalon.ac.uk"
# (name, the actions after submission)
SEEDS: tuple[tuple[str, tuple[Action, ...]], ...] = (
    ("submitted", ()),
    ("under-review", ("review",)),
    ("info-requested", ("review", "request_info")),
    ("decided", ("review", "decide")),
)


def _principal(member: str) -> Principal:
    now = time.time()
    scopes = frozenset({"mobility:read", "mobility:write", "mobility:decide"})
    return Principal(
        client_id=f"{member}:registry",
        institution=member,
        scopes=scopes,
        jti="demo",
        issued_at=now,
        expires_at=now + 60,
    )


async def seed_mobility(
    conn: asyncpg.Connection, credentials: Path, registry: FrameworkRegistry
) -> list[str]:
    """Create (or replay) the demo requests; their ids and states."""
    record: dict[str, Any] = msgspec.json.decode((credentials / "caledonia-data-analytics.json").read_bytes())
    body = msgspec.convert(
        {
            "learner": "urn:schac:personalUniqueCode:int:esi:uni-caledonia.ac.uk:s2026042",
            "home_member": HOME,
            "host_member": HOST,
            "items": [{"credential_id": record["id"], "record": record}],
            "target": {"programme": "BSc Data Science"},
            "registrar": "cal-registrar-1",
        },
        MobilityRequestCreate,
    )
    engines = EngineCache(registry)
    home, host = _principal(HOME), _principal(HOST)
    seeded = []
    for name, actions in SEEDS:
        created = await service.create(OnConnection(conn), home, engines, body, f"demo-seed-{name}")
        rid = msgspec.json.decode(created.body)["id"]
        version, state = 1, "submitted"
        for action in actions:
            payload = _body(action, record["id"])
            path = f"{service.COLLECTION}/{rid}/{action}"
            reply = await service.take_action(
                conn,
                host,
                rid,
                action,
                payload,
                path=path,
                if_match=service.etag(version),
                key=f"demo-seed-{name}-{action}",
            )
            document = msgspec.json.decode(reply.body)
            version, state = document["version"], document["state"]
        seeded.append(f"{rid} {state}")
    return seeded


def _body(action: Action, credential_id: str) -> service.AnyActionBody:
    if action == "request_info":
        return InfoRequestBody(registrar="av-registrar-1", note="Please send the module descriptor.")
    if action == "decide":
        return msgspec.convert(
            {
                "registrar": "av-registrar-1",
                "outcome": "approved",
                "items": [
                    {
                        "credential_id": credential_id,
                        "decision": "granted",
                        "credits": {"amount": 20, "unit": "uk-credit", "framework": "uk-fheq"},
                    }
                ],
            },
            DecisionBody,
        )
    return ActionBody(registrar="av-registrar-1")
