"""The demo's member registries: one OOAPI v6 sandbox per demo member, and a learner known at three of them.

Each registry runs on ``127.0.0.1`` (ports from ``base_port`` up, one per member in file order) with its
own authorization server, which trusts the gateway's client keys as the gateway publishes them at
``/oauth/client-jwks``. The demo consortium's members are pointed at them, and the learner's home member
links the learner and records their consent for one other member, so a lookup works out of the box.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import multiprocessing
import multiprocessing.process
import os
import secrets
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import msgspec

from adapters.connectors.sandbox import SandboxCluster, SandboxData, SandboxSpec, SharedLearner, esi_urn
from contracts.learners import LearnerKey
from gateway.audit import AuditEntry, append
from gateway.learners import store
from gateway.members.models import ConsortiumFile

__all__ = [
    "CONSENT_RECIPIENT",
    "DEMO_CLIENT_ID",
    "DEMO_LEARNER",
    "HOME",
    "seed_demo_consent",
    "start_registries",
]

DEMO_CLIENT_ID = "consortium-gateway"
ISSUER_TEMPLATE = "https://registry.{member}"
HOME = "uni-avalon.ac.uk"
CONSENT_RECIPIENT = "lakeside-college.edu"
DEMO_LEARNER = SharedLearner(esi=esi_urn(HOME, "20260001"), given_name="Sam", surname="Okafor", passed=2)
# Which members know the demo learner: their home university and two others they studied at.
_LEARNER_AT = frozenset({HOME, "uni-caledonia.ac.uk", "uni-rheinland.de"})


def demo_specs(file: ConsortiumFile, base_port: int) -> list[SandboxSpec]:
    return [
        SandboxSpec(
            member_id=entry.id,
            framework=entry.framework,
            port=base_port + index,
            seed="demo",
            shared=(DEMO_LEARNER,) if entry.id in _LEARNER_AT else (),
        )
        for index, entry in enumerate(file.members)
    ]


def point_at_registries(file: ConsortiumFile, base_port: int) -> ConsortiumFile:
    """The consortium with each member's connector and OAuth endpoints on its demo registry."""
    members = []
    for index, entry in enumerate(file.members):
        base_url = f"http://127.0.0.1:{base_port + index}"
        connector = msgspec.structs.replace(
            entry.connector,
            settings={**entry.connector.settings, "base_url": base_url, "client_id": DEMO_CLIENT_ID},
        )
        endpoints = msgspec.structs.replace(
            entry.endpoints, issuer=ISSUER_TEMPLATE.format(member=entry.id), token=f"{base_url}/oauth/token"
        )
        members.append(msgspec.structs.replace(entry, connector=connector, endpoints=endpoints))
    return msgspec.structs.replace(file, members=members)


def start_registries(
    specs: list[SandboxSpec], *, client_jwks: dict[str, Any], issuer: str, data_dir: Path
) -> multiprocessing.process.BaseProcess:
    """Serve the registries from a process of their own (not a thread of the demo: the gateway's
    workers are forked from the demo, and must not inherit the registries' listening sockets).

    The registries' admin secret (for switching faults: ``PUT /_sandbox/faults``) is written to
    ``<data dir>/demo/sandbox-admin-secret`` (mode 0600). The process ends when the demo does.
    """
    secret = _admin_secret(data_dir / "demo" / "sandbox-admin-secret")
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    parent_end, child_end = context.Pipe()
    process = context.Process(
        target=_serve,
        args=(specs, client_jwks, f"{issuer.rstrip('/')}/oauth/client-jwks", secret, ready, child_end),
        name="demo-registries",
        daemon=True,
    )
    process.start()
    child_end.close()
    process._demo_pipe = parent_end  # type: ignore[attr-defined]  # kept open: its closing ends the child
    if not ready.wait(30):
        process.kill()
        raise RuntimeError("the demo registries did not start")
    return process


def _serve(
    specs: list[SandboxSpec],
    client_jwks: dict[str, Any],
    client_jwks_uri: str,
    secret: str,
    ready: Any,
    parent: Any,
) -> None:
    cluster = SandboxCluster(
        specs,
        client_id=DEMO_CLIENT_ID,
        client_jwks_uri=client_jwks_uri,
        admin_secret=secret,
        issuer_template=ISSUER_TEMPLATE,
    )
    with cluster:
        cluster.trust_client_keys(client_jwks)
        ready.set()
        with contextlib.suppress(EOFError, OSError):
            parent.recv()  # blocks until the demo exits (EOF)


async def seed_demo_consent(conn: asyncpg.Connection, specs: list[SandboxSpec]) -> None:
    """Link the demo learner at their home member and record their consent for ``CONSENT_RECIPIENT``
    (once; a live consent is left alone)."""
    home = next(spec for spec in specs if spec.member_id == HOME)
    data = SandboxData.generate(
        home.member_id,
        home.framework,
        home.seed,
        learners=home.learners,
        courses=home.courses,
        shared=home.shared,
    )
    persons = data.persons_by_esi(DEMO_LEARNER.esi)  # the registry's data is deterministic: no need to ask
    key = LearnerKey(kind="esi", value=DEMO_LEARNER.esi.lower())
    async with conn.transaction():
        learner = await store.ensure_learner(conn, key)
        await store.upsert_link(conn, learner, HOME, persons[0].person_id, "demo")
        basis = await store.learner_basis(conn, key, CONSENT_RECIPIENT, "credit-transfer")
        if basis.consent is not None:
            return
        consent = uuid.uuid4()
        await store.insert_consent(
            conn,
            {
                "id": consent,
                "learner": learner,
                "recipient": CONSENT_RECIPIENT,
                "purpose": "credit-transfer",
                "data_categories": ["credentials", "grades"],
                "consent_text_version": "demo-v1",
                "method": "learner-portal",
                "recorded_by_member": HOME,
                "recorded_by_client": "demo",
                "given_at": None,
                "valid_until": dt.datetime.now(dt.UTC) + dt.timedelta(days=365),
            },
        )
        await append(
            conn,
            AuditEntry(
                stream=f"learner:{learner}",
                action="learner.consent.record",
                institution=HOME,
                client_id="demo",
                resource=f"learners/consents/{consent}",
                outcome="ok",
                learner=learner,
                purpose="credit-transfer",
                details={"recipient": CONSENT_RECIPIENT},
            ),
        )


def _admin_secret(path: Path) -> str:
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    secret = secrets.token_urlsafe(24)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secret + "\n")
    return secret
