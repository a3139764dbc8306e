"""The floor of a federated lookup over HTTP: performance.md's fan-out prototype, served as the gateway is.

A Litestar app on granian (the gateway's server settings: ASGI, ``Loops.auto`` so uvloop, the same worker
count) whose one route asks every member for a learner's associations at once through the gateway's
default member client (``adapters.connectors.member_client``: pyreqwest, one client per member; aiohttp
with ``CGW_BARE_CLIENT=aiohttp``), decodes each body with msgspec and answers their items in one JSON list.
Nothing else: no token, no lawful basis, no audit, no mapping, no policy, no tracing. Its workers are
pinned to CPUs as the gateway's are (``gateway.affinity``) when ``CGW_BARE_PIN_DIR`` names a directory for
the locks, and their threads run under ``SCHED_BATCH`` as the gateway's do by default
(``gateway.scheduling``) unless ``CGW_BARE_SCHEDULING=normal``. ``bench.fanout`` measures it in the same run
as the gateway, against the same nginx members, so the gateway's figures can be read against what the stack
itself does on this machine.

    python -m bench.bare_fanout <port> <workers>    (the members in the JSON file ``CGW_BARE_MEMBERS``)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
from granian.constants import Interfaces, Loops
from granian.log import LogLevels
from granian.server import Server
from litestar import Litestar, get

from adapters.connectors.member_client import ClientKind, new_member_client
from adapters.connectors.ooapi import DEFAULT_MAX_BYTES
from bench.harness import REPO, free_port, process_cpu_seconds, process_group
from bench.nginx_members import PAGE_QUERY, MemberSite
from contracts.connectors import MemberHttpClient
from gateway.affinity import PinnedCpu, pin_worker
from gateway.scheduling import batch_worker

__all__ = ["BareFanOut", "app", "bare_fan_out"]

CLIENT_ENV = "CGW_BARE_CLIENT"
PIN_ENV = "CGW_BARE_PIN_DIR"
SCHEDULING_ENV = "CGW_BARE_SCHEDULING"
MEMBERS_ENV = "CGW_BARE_MEMBERS"  # a JSON file: [{"base_url": ..., "persons": {esi: personId}}, ...]
_PAGE = msgspec.json.Decoder(dict[str, Any])


def app() -> Litestar:
    members: list[dict[str, Any]] = json.loads(Path(os.environ[MEMBERS_ENV]).read_text())
    kind: ClientKind = "aiohttp" if os.environ.get(CLIENT_ENV) == "aiohttp" else "pyreqwest"
    sessions: list[MemberHttpClient] = []
    headers = {"Accept": "application/json"}

    pinned: list[PinnedCpu | None] = []  # held as long as the worker lives

    async def open_sessions() -> None:
        sessions.extend(new_member_client(kind, 32) for _ in members)
        if lock_dir := os.environ.get(PIN_ENV):
            pinned.append(pin_worker(Path(lock_dir)))
        if os.environ.get(SCHEDULING_ENV) != "normal":
            batch_worker()

    async def close_sessions() -> None:
        await asyncio.gather(*(s.close() for s in sessions))

    async def one(session: MemberHttpClient, url: str) -> list[Any]:
        answer = await session.get(url, headers, limit=DEFAULT_MAX_BYTES, error_limit=DEFAULT_MAX_BYTES)
        items: list[Any] = _PAGE.decode(answer.body)["items"]
        return items

    @get("/v1/learners/{esi:str}/credentials")
    async def credentials(esi: str) -> dict[str, Any]:
        query = f"{PAGE_QUERY}&expand=course_offering"
        pages = await asyncio.gather(
            *(
                one(s, f"{m['base_url']}/persons/{m['persons'][esi]}/course-offering-associations?{query}")
                for s, m in zip(sessions, members, strict=True)
            )
        )
        return {"items": [item for page in pages for item in page], "partial": False}

    @get("/readyz")
    async def ready() -> str:
        return "ok"

    return Litestar([credentials, ready], on_startup=[open_sessions], on_shutdown=[close_sessions])


@dataclass
class BareFanOut:
    base: str
    proc: subprocess.Popen[bytes]

    def path(self, esi: str) -> str:
        return f"/v1/learners/{esi}/credentials"

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.proc.pid)


@contextlib.contextmanager
def bare_fan_out(
    sites: list[MemberSite],
    learners: list[str],
    *,
    workers: int,
    pin: bool = False,
    scheduling: str = "batch",
) -> Iterator[BareFanOut]:
    """The floor app serving ``sites`` (each knowing ``learners``) until the block exits; ``pin``: its
    workers pinned to CPUs, as the gateway's with ``GATEWAY_WORKER_CPU_AFFINITY=auto``; ``scheduling``: as
    ``GATEWAY_WORKER_SCHEDULING``."""
    with tempfile.TemporaryDirectory(prefix="cgw-bench-bare-") as tmp:
        listing = Path(tmp) / "members.json"
        members = [{"base_url": s.base_url, "persons": {e: s.person_ids[e] for e in learners}} for s in sites]
        listing.write_text(json.dumps(members))
        with _serving(listing, workers, Path(tmp) / "cpus" if pin else None, scheduling) as bare:
            yield bare


@contextlib.contextmanager
def _serving(listing: Path, workers: int, lock_dir: Path | None, scheduling: str) -> Iterator[BareFanOut]:
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k != PIN_ENV},
        **({PIN_ENV: str(lock_dir)} if lock_dir else {}),
        SCHEDULING_ENV: scheduling,
        MEMBERS_ENV: str(listing),
        "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p),
    }
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "bench.bare_fanout", str(port), str(workers)]
    with process_group(command, env, f"{base}/readyz", what="the bare fan-out app", wait=30) as proc:
        yield BareFanOut(base, proc)


def main() -> None:
    port, workers = int(sys.argv[1]), int(sys.argv[2])
    Server(
        "bench.bare_fanout:app",
        address="127.0.0.1",
        port=port,
        interface=Interfaces.ASGI,
        workers=workers,
        factory=True,
        loop=Loops.auto,
        log_level=LogLevels.warning,
        log_access=False,
    ).serve()


if __name__ == "__main__":
    main()
