"""``consortium-gateway demo``: the gateway on embedded PostgreSQL with the sample consortium.

Each demo member gets an OAuth client with a real key pair, kept in ``<data dir>/demo/clients/`` (the
private key never leaves that file), so a newcomer can act as any member with ``consortium-gateway token``.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import asyncpg
import msgspec

from adapters.frameworks import FrameworkRegistry
from contracts.scopes import SCOPES
from gateway.auth.keys import ensure_active_keys, generate_private_key, key_algorithms, load_key_ring
from gateway.auth.token_client import ClientFile
from gateway.config import Settings
from gateway.demo_registries import (
    CONSENT_RECIPIENT,
    DEMO_LEARNER,
    demo_specs,
    point_at_registries,
    seed_demo_consent,
    start_registries,
)
from gateway.members.consortium_file import load_consortium_file
from gateway.members.models import ClientEntry, ConsortiumFile, MemberKeys
from gateway.members.service import sync_consortium
from gateway.members.store import member_frameworks
from gateway.mobility.demo import seed_mobility
from gateway.recognition import check_agreements, check_equivalences
from gateway.recognition import store as recognition_store
from gateway.recognition.models import Equivalence, RecognitionAgreement
from gateway.runtime import database_dsn, migrated_connection
from gateway.serve import serve
from gateway.webhooks.receiver import JwksVerifier, Receiver, ReceiverThread

__all__ = ["default_consortium_file", "demo_clients", "run_demo"]


def default_consortium_file() -> Path:
    """``deploy/demo/consortium.toml`` of the working directory, else of the source checkout."""
    relative = Path("deploy/demo/consortium.toml")
    if relative.is_file():
        return relative
    return Path(__file__).resolve().parents[1] / relative


def _client_file(clients_dir: Path, member_id: str, issuer: str) -> ClientFile:
    path = clients_dir / f"{member_id}.json"
    if path.exists():
        existing = msgspec.json.decode(path.read_bytes(), type=ClientFile)
        if existing.issuer == issuer:
            return existing
        private_jwk = existing.private_jwk  # same key, new address (e.g. another --port)
    else:
        private_jwk = generate_private_key("ES256", kid_prefix=f"{member_id}-").as_dict(private=True)
    client = ClientFile(
        client_id=f"{member_id}:registry",
        member_id=member_id,
        private_jwk=private_jwk,
        token_endpoint=f"{issuer.rstrip('/')}/oauth/token",
        issuer=issuer,
        scopes=sorted(SCOPES),
    )
    clients_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(msgspec.json.format(msgspec.json.encode(client), indent=2))
    return client


def demo_clients(file: ConsortiumFile, clients_dir: Path, issuer: str) -> ConsortiumFile:
    """The consortium with one registry client per member, whose key pair is in ``clients_dir``."""
    members = []
    for entry in file.members:
        client = _client_file(clients_dir, entry.id, issuer)
        public = {k: v for k, v in client.private_jwk.items() if k not in ("d", "p", "q", "dp", "dq", "qi")}
        registered = ClientEntry(
            client_id=client.client_id,
            scopes=client.scopes,  # type: ignore[arg-type]
            keys=MemberKeys(jwks={"keys": [public]}),
            capabilities=["introspect"],
        )
        members.append(msgspec.structs.replace(entry, clients=[*entry.clients, registered]))
    return msgspec.structs.replace(file, members=members)


class _DemoRecognition(msgspec.Struct):
    agreements: list[RecognitionAgreement]
    equivalences: list[Equivalence]


async def seed_recognition(conn: asyncpg.Connection, data: bytes, registry: FrameworkRegistry) -> int:
    """Store the demo's agreements and equivalences (version 1 of each, once); return how many were new."""
    seed = msgspec.json.decode(data, type=_DemoRecognition)
    members = await member_frameworks(conn)
    check_agreements(seed.agreements, registry, members)
    check_equivalences(seed.equivalences, registry, members)
    added = 0
    async with conn.transaction():
        for agreement in seed.agreements:
            if not await recognition_store.agreement_versions(conn, agreement.id):
                await recognition_store.insert_agreement(conn, agreement, "demo")
                added += 1
        for equivalence in seed.equivalences:
            if not await recognition_store.equivalence_versions(conn, equivalence.id):
                await recognition_store.insert_equivalence(conn, equivalence, "demo")
                added += 1
    return added


def run_demo(
    settings: Settings,
    *,
    host: str,
    port: int,
    workers: int,
    consortium: Path | None,
    registry_port: int | None = None,
) -> int:
    path = consortium or default_consortium_file()
    if "GATEWAY_ISSUER" not in os.environ:
        settings = msgspec.structs.replace(settings, issuer=f"http://{host}:{port}")
    # The demo's member registries are on loopback, over http: only the demo allows that.
    settings = msgspec.structs.replace(settings, outbound_allow_loopback=True)
    registry_port = registry_port if registry_port is not None else port + 101
    clients_dir = settings.data_dir / "demo" / "clients"
    registry = FrameworkRegistry.from_entry_points()
    recognition = (path.parent / "recognition.json").read_bytes()
    file = demo_clients(load_consortium_file(path, registry.ids), clients_dir, settings.issuer)
    specs = demo_specs(file, registry_port)
    file = point_at_registries(file, registry_port)
    base = f"http://{host}:{port}"
    # A webhook receiver per member on loopback (R18 test mode: http to 127.0.0.1 only, demo and tests).
    receivers = ReceiverThread(
        [Receiver(m.id, JwksVerifier(f"{base}/webhooks/jwks"), announce=True) for m in file.members]
    ).start()
    members = [msgspec.structs.replace(m, webhook_url=receivers.url(m.id)) for m in file.members]
    file = msgspec.structs.replace(file, members=members)
    seeded: list[str] = []

    async def prepare(dsn: str) -> tuple[int, dict[str, Any]]:
        async with migrated_connection(dsn, settings) as conn:
            report = await sync_consortium(conn, file)
            await seed_recognition(conn, recognition, registry)
            await seed_demo_consent(conn, specs)
            seeded.extend(await seed_mobility(conn, path.parent / "credentials", registry))
            # The registries trust the gateway's client keys from the start (they also fetch them from
            # /oauth/client-jwks when they meet an unknown kid, e.g. after a rotation).
            algs = key_algorithms(settings.access_token_alg)
            await ensure_active_keys(conn, settings.signing_keys_dir, algs)
            ring = await load_key_ring(conn, settings.signing_keys_dir)
        return len(report.created) + len(report.updated) + len(report.unchanged), ring.jwks(
            "client-assertion"
        )

    with database_dsn(settings) as dsn:
        count, client_jwks = asyncio.run(prepare(dsn))
        registries = start_registries(
            specs, client_jwks=client_jwks, issuer=settings.issuer, data_dir=settings.data_dir
        )
        first = file.members[0].id
        where = (
            "DATABASE_URL"
            if settings.database_url
            else f"embedded PostgreSQL in {settings.data_dir}/postgres"
        )
        client_file = clients_dir / f"{first}.json"
        ports = [spec.port for spec in specs]
        sys.stdout.write(
            f"""
Consortium Gateway demo: {file.consortium.name}
  {count} members synced from {path}
  database: {where}
  member clients (private keys): {clients_dir}/<member-id>.json

Open
  {base}/schema              API documentation (OpenAPI 3.1 at {base}/schema/openapi.json)
  {base}/readyz              readiness: database reachable, migrations current

Try, acting as {first}
  TOKEN=$(.venv/bin/consortium-gateway token --client-file {client_file})
  curl -s -H "Authorization: Bearer $TOKEN" {base}/v1/members
  curl -s -H "Authorization: Bearer $TOKEN" {base}/v1/members/{first}
  curl -s {base}/v1/members                      # no token: an RFC 9457 problem, 401

Recognition (agreements and equivalences are in {path.parent}/recognition.json)
  .venv/bin/consortium-gateway recognise --member uni-avalon.ac.uk --format text \\
      --credential {path.parent}/credentials/caledonia-data-analytics.json
  curl -s -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\
      -d "{{\\"credentials\\": [$(cat {path.parent}/credentials/rheinland-machine-learning.json)]}}" \\
      {base}/v1/recognition/evaluate

{_mobility_help(base, path.parent, clients_dir, seeded, receivers)}
Federated lookup (member registries: OOAPI v6 sandboxes on ports {", ".join(map(str, ports))})
  The learner {DEMO_LEARNER.esi} studied at three members; their home
  university recorded their consent for {CONSENT_RECIPIENT} (purpose credit-transfer). Acting as it:
  LAKESIDE=$(.venv/bin/consortium-gateway token --client-file {clients_dir}/{CONSENT_RECIPIENT}.json)
  curl -s -H "Authorization: Bearer $LAKESIDE" \\
      '{base}/v1/learners/{DEMO_LEARNER.esi}/credentials?purpose=credit-transfer'
  curl -s -H "Authorization: Bearer $LAKESIDE" '{base}/v1/catalogue?eqf=6'
  Make a registry hang (faults: none, slow, error, hang, flapping, malformed), then look up again:
  curl -s -X PUT -H "X-Sandbox-Admin: $(cat {settings.data_dir}/demo/sandbox-admin-secret)" \\
      -d '{{"mode": "hang"}}' http://127.0.0.1:{ports[1]}/_sandbox/faults

Stop with Ctrl-C.
"""
        )
        sys.stdout.flush()
        try:
            serve(dsn, settings, host=host, port=port, workers=workers)
        finally:
            registries.kill()
            registries.join(5)
            receivers.stop()
    return 0


def _mobility_help(
    base: str,
    demo_dir: Path,
    clients_dir: Path,
    seeded: list[str],
    receivers: ReceiverThread,
) -> str:
    lines = "\n".join(f"    {line}" for line in seeded)
    hooks = "\n".join(f"    {member}: {receivers.url(member)}" for member in sorted(receivers.ports))
    host_file = clients_dir / "uni-avalon.ac.uk.json"
    home_file = clients_dir / "uni-rheinland.de.json"
    return f"""
Mobility (requests seeded at Avalon from Caledonia, id and state):
{lines}
  webhook receivers (signed deliveries are printed here as they arrive; GET lists them):
{hooks}
  Walk one request, Rheinland (home) -> Avalon (host):
  HOME=$(.venv/bin/consortium-gateway token --client-file {home_file})
  HOST=$(.venv/bin/consortium-gateway token --client-file {host_file})
  ID=$(curl -s -H "Authorization: Bearer $HOME" -H "Idempotency-Key: demo-$(date +%s%N)" \\
      -H 'Content-Type: application/json' -d @{demo_dir}/mobility-request.json \\
      {base}/v1/mobility-requests | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  curl -s -H "Authorization: Bearer $HOST" {base}/v1/mobility-requests?state=submitted
  curl -s -H "Authorization: Bearer $HOST" -H 'If-Match: "v1"' -H 'Content-Type: application/json' \\
      -d '{{"registrar": "av-registrar-1"}}' {base}/v1/mobility-requests/$ID/review
  curl -s -H "Authorization: Bearer $HOST" -H 'If-Match: "v2"' -H "Idempotency-Key: demo-$(date +%s%N)" \\
      -H 'Content-Type: application/json' -d @{demo_dir}/mobility-decision.json \\
      {base}/v1/mobility-requests/$ID/decision
  curl -s -H "Authorization: Bearer $HOME" {base}/v1/events
"""
