"""Three member registries (OOAPI sandboxes on their own thread and loop, each with its own authorization
server) and the gateway in front of them, with a learner known at all three."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import asyncpg
import msgspec
import pytest
from litestar.testing import AsyncTestClient
from oauth_helpers import MemberClient

from adapters.connectors.sandbox import SandboxCluster, SandboxSpec, SharedLearner, esi_urn
from gateway.app import create_app
from gateway.config import Settings
from gateway.members.models import ConsortiumFile
from gateway.members.service import sync_consortium
from gateway.telemetry import Telemetry

HOME = "uni-a.ac.uk"
OTHER = "uni-b.ac.uk"
CALLER = "college-c.edu"
FRAMEWORKS = {HOME: "uk-fheq", OTHER: "scqf", CALLER: "us-semester"}
ESI = esi_urn(HOME, "4711")
LEARNER = SharedLearner(esi=ESI, given_name="Sam", surname="Okafor", passed=2)
DEADLINE = 1.0
BREAKER_FAILURES = 2
BREAKER_OPEN_FOR = 1.0


@dataclass
class World:
    """The gateway (``http``), the member registries (``cluster``) and two members' clients."""

    http: AsyncTestClient[object]
    cluster: SandboxCluster
    database_url: str
    home: MemberClient
    caller: MemberClient

    async def token(self, member: MemberClient) -> dict[str, str]:
        deadline = time.monotonic() + 5
        while True:  # a client registered after start-up is known at the next trust refresh
            response = await self.http.post("/oauth/token", data=member.token_form())
            if response.status_code == 200 or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.05)
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def local_id(self, member: str, esi: str = ESI) -> str:
        persons = self.cluster.members[member].running.sandbox.data.persons_by_esi(esi)
        return persons[0].person_id

    def requests_seen(self, member: str) -> int:
        return len(self.cluster.members[member].running.sandbox.requests)

    async def consent(self, recipient: str = CALLER, purpose: str = "credit-transfer", ref: str = ESI) -> str:
        """The home member links the learner and records their consent; the consent's id."""
        headers = await self.token(self.home)
        linked = await self.http.put(
            f"/v1/learners/{ref}/link", json={"local_id": self.local_id(HOME)}, headers=headers
        )
        assert linked.status_code in (200, 201), linked.text
        until = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).isoformat()
        recorded = await self.http.post(
            f"/v1/learners/{ref}/consents",
            json={
                "recipient": recipient,
                "purpose": purpose,
                "valid_until": until,
                "consent_text_version": "v1",
            },
            headers=headers,
        )
        assert recorded.status_code == 201, recorded.text
        return str(recorded.json()["id"])

    async def audit_rows(self) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(self.database_url)
        try:
            return list(await conn.fetch("SELECT * FROM audit_entries ORDER BY at, stream, seq"))
        finally:
            await conn.close()


@pytest.fixture
def cluster() -> Iterator[SandboxCluster]:
    specs = [
        SandboxSpec(member_id=m, framework=f, seed="lookup-tests", learners=4, courses=4, shared=(LEARNER,))
        for m, f in FRAMEWORKS.items()
    ]
    with SandboxCluster(specs, client_id="consortium-gateway") as running:
        yield running


@pytest.fixture
def settings(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    """The integration settings, with loopback registries and short lookup limits (and a test's own, when
    it parametrizes ``settings`` indirectly with a dict of them)."""
    limits = {
        "outbound_allow_loopback": True,
        "lookup_deadline": DEADLINE,
        "members_refresh_interval": 0.2,
        "member_breaker_failures": BREAKER_FAILURES,
        "member_breaker_open_for": BREAKER_OPEN_FOR,
        "member_max_in_flight": 4,
        "member_queue_wait": 0.1,
    }
    return msgspec.structs.replace(settings, **(limits | getattr(request, "param", {})))


def consortium(cluster: SandboxCluster, clients: list[MemberClient]) -> ConsortiumFile:
    members = []
    for member_id, framework in FRAMEWORKS.items():
        sandbox = cluster.members[member_id]
        members.append(
            {
                "id": member_id,
                "name": f"Member {member_id}",
                "country": "US" if member_id.endswith(".edu") else "GB",
                "framework": framework,
                "connector": {
                    "id": "ooapi",
                    "settings": {"base_url": sandbox.base_url, "client_id": "consortium-gateway"},
                },
                "endpoints": {"issuer": sandbox.issuer, "token": sandbox.token_endpoint},
                "clients": [
                    msgspec.to_builtins(c.client_entry()) for c in clients if c.member_id == member_id
                ],
            }
        )
    return msgspec.convert(
        {"consortium": {"id": "lookup-tests", "name": "Lookup tests"}, "members": members}, ConsortiumFile
    )


@pytest.fixture
async def world(
    settings: Settings, telemetry: Telemetry, cluster: SandboxCluster, database_url: str
) -> AsyncIterator[World]:
    home = MemberClient(f"{HOME}:registry", HOME)
    caller = MemberClient(f"{CALLER}:registry", CALLER)
    conn = await asyncpg.connect(database_url)
    try:
        await sync_consortium(conn, consortium(cluster, [home, caller]))
    finally:
        await conn.close()
    async with AsyncTestClient(create_app(settings, telemetry=telemetry)) as http:
        # The registries trust the gateway's client keys, as published by the gateway.
        published = await http.get("/oauth/client-jwks")
        assert published.status_code == 200
        cluster.trust_client_keys(published.json())
        yield World(http, cluster, database_url, home, caller)
