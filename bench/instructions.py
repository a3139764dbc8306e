"""Instructions per request through the gateway's app, counted by callgrind: repeatable where timings are not.

Throughput on this machine moves by a third between runs (shared/reference/performance.md); instruction
counts move by well under 1 %, so they show what a change to the request path costs or saves. The app runs
in one process on an embedded PostgreSQL (which runs natively, uncounted). Requests are made serially
through the ASGI interface, so the count is the app's work (Litestar, middleware, handler, the database
client), without the HTTP server and without load.

    python -m bench.instructions [--requests 300] [--lookup-only]

Needs valgrind (Debian package ``valgrind``). Workloads, in one run:
  healthz   the public liveness route: Litestar's own cost of a request
  whoami    a guarded route: plus the bearer token (validated once, then cached) and the server span
  create    W6's mobility creation: plus the body, the recognition engine and the write (batch of one)
  lookup5   W1's federated lookup at N = 5: the lawful-basis check, five member calls (the default
            client, pyreqwest; its Tokio thread is counted too) to nginx mock members (bench.nginx_members:
            run natively, not counted), the mapping, the merge and the access-audit entry; tracing as with
            no exporter (spans made, none recorded)
  lookup5-aiohttp  the same with ``GATEWAY_MEMBER_HTTP_CLIENT=aiohttp``
  lookup5-sampled  lookup5 with every lookup sampled and exported over OTLP/HTTP as the gateway exports
            (batched, to the nginx sink; the batches still queued are flushed inside the count): what one
            sampled lookup costs, which W7's sampled share multiplies
  aiohttp5  the floor of lookup5's member calls: the same five GETs of a learner's associations with
            aiohttp alone (a session per member, concurrent, each body decoded), nothing else
  reqwest5  the same floor through the gateway's pyreqwest client (``member_client.ReqwestClient``)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import asyncpg
import msgspec
import uvloop
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from adapters.connectors.member_client import new_member_client
from adapters.connectors.ooapi import DEFAULT_MAX_BYTES
from adapters.connectors.sandbox import SharedLearner
from bench.fanout import FRAMEWORKS, HOME, PURPOSE, consortium_for, esis, member_client, ok_id
from bench.harness import BenchClient, consortium_toml, new_client
from bench.mobility import CREATE, HOST
from bench.mobility import HOME as MOBILITY_HOME
from bench.nginx_members import PAGE_QUERY, MemberSite, MemberSpec, nginx_members
from bench.tokens import _bodies
from contracts.connectors import MemberHttpClient
from gateway.app import create_app
from gateway.config import Settings
from gateway.db.embedded import embedded_postgres
from gateway.db.migrate import migrate
from gateway.members.consortium_file import parse_consortium
from gateway.members.service import sync_consortium
from gateway.otlp.exporter import GatewaySpanExporter
from gateway.telemetry import Telemetry, configure_telemetry

APP_WORKLOADS = ("healthz", "whoami", "create")
LOOKUP_WORKLOADS = ("lookup5", "lookup5-aiohttp", "lookup5-sampled", "aiohttp5", "reqwest5")
LOOKUP_MEMBERS = 5
LOOKUP_LEARNERS = 8
ISSUER = "http://127.0.0.1:8000"
_TOKEN = msgspec.json.Decoder(dict[str, Any])
_BODY = msgspec.json.Decoder()
C = TypeVar("C")


def _scope(method: str, target: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    path, _, query = target.partition("?")
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": headers,
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
    }


class _App:
    """Calls the ASGI app directly, as the server would: one request at a time."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def call(
        self, method: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes = b""
    ) -> tuple[int, bytes]:
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await self.app(_scope(method, path, headers), receive, send)
        status = next(m["status"] for m in sent if m["type"] == "http.response.start")
        return status, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


def _callgrind(*args: str) -> None:
    subprocess.run(["callgrind_control", *args, str(os.getpid())], check=True, capture_output=True)


@contextlib.asynccontextmanager
async def _running(
    consortium: str, data: Path, telemetry: Telemetry | None = None, **settings: Any
) -> AsyncIterator[_App]:
    """The app on its own embedded PostgreSQL with ``consortium``, through its lifespan."""
    with embedded_postgres(data / "pg") as dsn:
        conn = await asyncpg.connect(dsn)
        try:
            await migrate(conn)
            await sync_consortium(conn, parse_consortium(consortium))
        finally:
            await conn.close()
        app = create_app(
            Settings(database_url=dsn, issuer=ISSUER, data_dir=data, keys_dir=data / "keys", **settings),
            telemetry=telemetry,
        )
        started: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        await events.put({"type": "lifespan.startup"})
        lifespan = {"type": "lifespan", "asgi": {"version": "3.0"}}
        life = asyncio.create_task(app(lifespan, events.get, started.put))
        message = await started.get()
        assert message["type"] == "lifespan.startup.complete", message
        yield _App(app)
        await events.put({"type": "lifespan.shutdown"})
        await life


async def _bearer(http: _App, client: BenchClient) -> list[tuple[bytes, bytes]]:
    form = [(b"content-type", b"application/x-www-form-urlencoded")]
    status, body = await http.call("POST", "/oauth/token", form, _bodies(client, ISSUER, 1)[0].encode())
    assert status == 200, body
    return [(b"authorization", f"Bearer {_TOKEN.decode(body)['access_token']}".encode())]


async def _count(
    workload: str,
    requests: int,
    one: Callable[[int], Awaitable[None]],
    settle: Callable[[], object] = lambda: None,
) -> None:
    """``requests`` counted calls of ``one`` after 100 uncounted ones (caches, prepared statements, the
    recognition engine, the members' kept courses), then ``settle`` (work the calls left behind), dumped as
    ``workload``."""
    for i in range(100):
        await one(i)
    settle()
    _callgrind("-i", "on")
    for i in range(requests):
        await one(100 + i)
    settle()
    _callgrind("-i", "off")
    _callgrind("-d", workload)


async def _app_child(requests: int, data: Path) -> None:
    client = new_client("ES256")
    consortium = consortium_toml([client], {HOST: "uk-fheq", MOBILITY_HOME: "uk-fheq"})
    async with _running(consortium, data) as http:
        bearer = await _bearer(http, client)
        payload = msgspec.json.encode(CREATE)
        json_headers = [*bearer, (b"content-type", b"application/json")]

        async def healthz(_: int) -> None:
            status, body = await http.call("GET", "/healthz", [])
            assert status == 200, body[:300]

        async def whoami(_: int) -> None:
            status, body = await http.call("GET", "/v1/whoami", bearer)
            assert status == 200, body[:300]

        async def create(i: int) -> None:
            key = [(b"idempotency-key", f"instructions-{i}".encode())]
            status, body = await http.call("POST", "/v1/mobility-requests", json_headers + key, payload)
            assert status == 201, body[:300]

        await _count("healthz", requests, healthz)
        await _count("whoami", requests, whoami)
        await _count("create", requests, create)


async def _lookup_child(requests: int, data: Path, sites: list[MemberSite], otlp: str) -> None:
    """W1 at N = 5 over either member client and sampled, then the floors of its member calls with either
    client."""
    learners = list(sites[0].person_ids)
    await _lookup(requests, data / "pyreqwest", sites, "lookup5", "pyreqwest")
    await _lookup(requests, data / "aiohttp", sites, "lookup5-aiohttp", "aiohttp")
    # every lookup sampled (a processor and no sampler named), exported as in production
    exporter = GatewaySpanExporter(endpoint=f"{otlp}/v1/traces")
    sampled = configure_telemetry(processors=(BatchSpanProcessor(exporter),), env={})
    try:
        await _lookup(requests, data / "sampled", sites, "lookup5-sampled", "pyreqwest", sampled)
    finally:
        sampled.shutdown()
    async with contextlib.AsyncExitStack() as stack:
        sessions = [await stack.enter_async_context(aiohttp.ClientSession()) for _ in sites]
        await _count("aiohttp5", requests, _floor(_aiohttp_get, sessions, sites, learners))
    clients = [new_member_client("pyreqwest", 32) for _ in sites]
    try:
        # through the gateway's pyreqwest client (capped reads)
        await _count("reqwest5", requests, _floor(_reqwest_get, clients, sites, learners))
    finally:
        await asyncio.gather(*(c.close() for c in clients))


async def _lookup(
    requests: int,
    data: Path,
    sites: list[MemberSite],
    name: str,
    client: str,
    telemetry: Telemetry | None = None,
) -> None:
    """Each learner linked at every member and consenting to the caller (as bench.fanout)."""
    clients = {s.spec.member_id: member_client(s.spec.member_id) for s in sites}
    caller = sites[-1].spec.member_id
    learners = list(sites[0].person_ids)
    consortium = consortium_for(sites, clients)
    settings = {"outbound_allow_loopback": True, "member_http_client": client}
    async with _running(consortium, data, telemetry, **settings) as http:
        bearers = {member: await _bearer(http, client.bench) for member, client in clients.items()}
        json_of = {member: [*b, (b"content-type", b"application/json")] for member, b in bearers.items()}
        until = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).isoformat()
        consent = {
            "recipient": caller,
            "purpose": PURPOSE,
            "valid_until": until,
            "consent_text_version": "v1",
        }
        for esi in learners:
            for site in sites:
                link = msgspec.json.encode({"local_id": site.person_ids[esi]})
                status, body = await http.call(
                    "PUT", f"/v1/learners/{esi}/link", json_of[site.spec.member_id], link
                )
                assert status in (200, 201), body[:300]
            status, body = await http.call(
                "POST", f"/v1/learners/{esi}/consents", json_of[HOME], msgspec.json.encode(consent)
            )
            assert status == 201, body[:300]

        async def lookup(i: int) -> None:
            path = f"/v1/learners/{learners[i % len(learners)]}/credentials?purpose={PURPOSE}&limit=100"
            status, body = await http.call("GET", path, bearers[caller])
            assert status == 200, body[:300]
            answer = msgspec.json.decode(body)
            assert not answer["partial"], answer["members"]
            assert len(answer["items"]) == sites[0].awarded * len(sites), len(answer["items"])

        settle = telemetry.provider.force_flush if telemetry is not None else lambda: None
        await _count(name, requests, lookup, settle)


_FLOOR_HEADERS = {"Authorization": "Bearer x", "Accept": "application/json"}


async def _aiohttp_get(session: aiohttp.ClientSession, url: str) -> None:
    async with session.get(url, headers=_FLOOR_HEADERS) as response:
        assert response.status == 200, response.status
        _BODY.decode(await response.read())


async def _reqwest_get(client: MemberHttpClient, url: str) -> None:
    answer = await client.get(url, _FLOOR_HEADERS, limit=DEFAULT_MAX_BYTES, error_limit=DEFAULT_MAX_BYTES)
    assert answer.status == 200, answer.status
    _BODY.decode(answer.body)


def _floor(
    get: Callable[[C, str], Awaitable[None]], clients: list[C], sites: list[MemberSite], learners: list[str]
) -> Callable[[int], Awaitable[None]]:
    """lookup5's member GETs with nothing around them, ``get`` through one client per member at once."""
    query = f"{PAGE_QUERY}&expand=course_offering"

    async def fan_out(i: int) -> None:
        esi = learners[i % len(learners)]
        await asyncio.gather(
            *(
                get(
                    client,
                    f"{site.base_url}/persons/{site.person_ids[esi]}/course-offering-associations?{query}",
                )
                for client, site in zip(clients, sites, strict=True)
            )
        )

    return fan_out


def _member_sites(path: Path) -> list[MemberSite]:
    return [
        MemberSite(
            MemberSpec(m["id"], m["framework"]), m["port"], person_ids=m["persons"], awarded=m["awarded"]
        )
        for m in json.loads(path.read_text())
    ]


def _totals(path: Path) -> int:
    for line in path.read_text().splitlines():
        if line.startswith("totals:"):
            return int(line.split()[1])
    raise RuntimeError(f"no totals in {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description="Instructions per request through the app (callgrind)")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--lookup-only", action="store_true", help="count lookup5 only (a quicker run)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)  # the member sites, as JSON
    parser.add_argument("--otlp", help=argparse.SUPPRESS)  # the members' OTLP sink
    args = parser.parse_args()
    workloads = LOOKUP_WORKLOADS if args.lookup_only else APP_WORKLOADS + LOOKUP_WORKLOADS
    if args.child:
        with tempfile.TemporaryDirectory(prefix="cgw-instr-") as tmp:
            # the server's loop (granian picks uvloop)
            if not args.lookup_only:
                uvloop.run(_app_child(args.requests, Path(tmp) / "app"))
            sites = _member_sites(args.child)
            uvloop.run(_lookup_child(args.requests, Path(tmp) / "lookup", sites, args.otlp))
        return
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        sys.exit("this benchmark needs valgrind: apt-get install -y valgrind")
    learners = [
        SharedLearner(esi=e, given_name="Sam", surname="Okafor", passed=1) for e in esis(LOOKUP_LEARNERS)
    ]
    specs = [
        MemberSpec(ok_id(i), FRAMEWORKS[(i - 1) % len(FRAMEWORKS)]) for i in range(1, LOOKUP_MEMBERS + 1)
    ]
    with (
        tempfile.TemporaryDirectory(prefix="cgw-callgrind-") as out,
        nginx_members(specs, learners, sleep_s=2) as members,
    ):
        sites = Path(out) / "sites.json"
        sites.write_text(
            json.dumps(
                [
                    {
                        "id": site.spec.member_id,
                        "framework": site.spec.framework,
                        "port": site.port,
                        "persons": site.person_ids,
                        "awarded": site.awarded,
                    }
                    for site in members.sites.values()
                ]
            )
        )
        base = Path(out) / "callgrind.out"
        command = [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            f"--callgrind-out-file={base}",
            sys.executable,
            "-m",
            "bench.instructions",
            "--child",
            str(sites),
            "--otlp",
            members.otlp_endpoint,
            "--requests",
            str(args.requests),
            *(["--lookup-only"] if args.lookup_only else []),
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=1800)
        if done.returncode != 0:
            sys.exit(f"the counted run failed:\n{done.stderr[-3000:]}")
        dumps = sorted(Path(out).glob("callgrind.out.*"), key=lambda p: int(p.suffix[1:]))
        if len(dumps) != len(workloads):
            sys.exit(f"expected {len(workloads)} dumps, found {[p.name for p in dumps]}")
        per_request = {w: _totals(p) / args.requests for w, p in zip(workloads, dumps, strict=True)}
    print(f"Instructions per request through the app (callgrind, {args.requests} serial requests each)")
    floors = {
        "lookup5": "reqwest5",
        "lookup5-aiohttp": "aiohttp5",
        "lookup5-sampled": "lookup5",
        "reqwest5": "aiohttp5",
        "whoami": "healthz",
        "create": "healthz",
    }
    for workload, count in per_request.items():
        floor = floors.get(workload)
        ratio = f"   {count / per_request[floor]:5.2f}x {floor}" if floor in per_request else ""
        print(f"  {workload:15} {count / 1000:9.1f} k{ratio}")


if __name__ == "__main__":
    main()
