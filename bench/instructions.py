"""Instructions per request through the gateway's app, counted by callgrind: repeatable where timings are not.

Throughput on this machine moves by a third between runs (shared/reference/performance.md); instruction
counts move by well under 1 %, so they show what a change to the request path costs or saves. The app runs
in one process on an embedded PostgreSQL (which runs natively, uncounted). Requests are made serially
through the ASGI interface, so the count is the app's work (Litestar, middleware, handler, the database
client), without the HTTP server and without load.

    python -m bench.instructions [--requests 300]

Needs valgrind (Debian package ``valgrind``). Workloads, in one run:
  healthz   the public liveness route: Litestar's own cost of a request
  whoami    a guarded route: plus the bearer token (validated once, then cached) and the server span
  create    W6's mobility creation: plus the body, the recognition engine and the write (batch of one)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
import uvloop

from bench.harness import consortium_toml, new_client
from bench.mobility import CREATE, HOME, HOST
from bench.tokens import _bodies
from gateway.app import create_app
from gateway.config import Settings
from gateway.db.embedded import embedded_postgres
from gateway.db.migrate import migrate
from gateway.members.consortium_file import parse_consortium
from gateway.members.service import sync_consortium

WORKLOADS = ("healthz", "whoami", "create")
ISSUER = "http://127.0.0.1:8000"
_TOKEN = msgspec.json.Decoder(dict[str, Any])


def _scope(method: str, path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
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


async def _child(requests: int, data: Path) -> None:
    client = new_client("ES256")
    consortium = consortium_toml([client], {HOST: "uk-fheq", HOME: "uk-fheq"})
    with embedded_postgres(data / "pg") as dsn:
        conn = await asyncpg.connect(dsn)
        try:
            await migrate(conn)
            await sync_consortium(conn, parse_consortium(consortium))
        finally:
            await conn.close()
        app = create_app(Settings(database_url=dsn, issuer=ISSUER, data_dir=data, keys_dir=data / "keys"))
        started: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        await events.put({"type": "lifespan.startup"})
        lifespan = {"type": "lifespan", "asgi": {"version": "3.0"}}
        life = asyncio.create_task(app(lifespan, events.get, started.put))
        message = await started.get()
        assert message["type"] == "lifespan.startup.complete", message
        http = _App(app)
        form = [(b"content-type", b"application/x-www-form-urlencoded")]
        status, body = await http.call("POST", "/oauth/token", form, _bodies(client, ISSUER, 1)[0].encode())
        assert status == 200, body
        bearer = [(b"authorization", f"Bearer {_TOKEN.decode(body)['access_token']}".encode())]
        payload = msgspec.json.encode(CREATE)
        json_headers = [*bearer, (b"content-type", b"application/json")]
        counter = 0

        async def one(workload: str) -> None:
            nonlocal counter
            counter += 1
            if workload == "healthz":
                status, body = await http.call("GET", "/healthz", [])
            elif workload == "whoami":
                status, body = await http.call("GET", "/v1/whoami", bearer)
            else:
                key = [(b"idempotency-key", f"instructions-{counter}".encode())]
                status, body = await http.call("POST", "/v1/mobility-requests", json_headers + key, payload)
            assert status in (200, 201), (workload, status, body[:300])

        for workload in WORKLOADS:
            for _ in range(100):  # warm: caches, the recognition engine, prepared statements
                await one(workload)
            _callgrind("-i", "on")
            for _ in range(requests):
                await one(workload)
            _callgrind("-i", "off")
            _callgrind("-d", workload)
        await events.put({"type": "lifespan.shutdown"})
        await life


def _totals(path: Path) -> int:
    for line in path.read_text().splitlines():
        if line.startswith("totals:"):
            return int(line.split()[1])
    raise RuntimeError(f"no totals in {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description="Instructions per request through the app (callgrind)")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        with tempfile.TemporaryDirectory(prefix="cgw-instr-") as tmp:
            uvloop.run(_child(args.requests, Path(tmp)))  # the server's loop (granian picks uvloop)
        return
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        sys.exit("this benchmark needs valgrind: apt-get install -y valgrind")
    with tempfile.TemporaryDirectory(prefix="cgw-callgrind-") as out:
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
            "--requests",
            str(args.requests),
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=1200)
        if done.returncode != 0:
            sys.exit(f"the counted run failed:\n{done.stderr[-3000:]}")
        dumps = sorted(Path(out).glob("callgrind.out.*"), key=lambda p: int(p.suffix[1:]))
        if len(dumps) != len(WORKLOADS):
            sys.exit(f"expected {len(WORKLOADS)} dumps, found {[p.name for p in dumps]}")
        per_request = {w: _totals(p) / args.requests for w, p in zip(WORKLOADS, dumps, strict=True)}
    print(f"Instructions per request through the app (callgrind, {args.requests} serial requests each)")
    for workload, count in per_request.items():
        ratio = count / per_request["healthz"]
        print(f"  {workload:8} {count / 1000:9.1f} k   {ratio:5.1f}x healthz")


if __name__ == "__main__":
    main()
