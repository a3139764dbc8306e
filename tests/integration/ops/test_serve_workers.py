"""``consortium-gateway serve`` with two workers, as a process: a worker that dies is replaced, and the other
keeps serving meanwhile."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from process_helpers import Component, free_port, gateway_env, ready

pytestmark = pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads processes from /proc")


def children(pid: int) -> set[int]:
    """The live (not zombie) child processes of ``pid``."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces: the fields after it are split safely.
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == pid and state != "Z":
            found.add(int(entry))
    return found


def owner(server_port: int, client_port: int, candidates: set[int]) -> int | None:
    """Which of ``candidates`` holds the server's end of the loopback connection from ``client_port``."""
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = (int(address.split(":")[1], 16) for address in fields[1:3])
        if (local, remote) == (server_port, client_port):
            inode = fields[9]
    for pid in candidates:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd) == f"socket:[{inode}]":
                    return pid
            except OSError:
                continue
    return None


async def answered_by(port: int, candidates: set[int]) -> tuple[int, int | None]:
    """One ``GET /readyz`` over a new connection: its status and the worker that answered it."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(b"GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        status = int((await asyncio.wait_for(reader.readline(), 5)).split()[1])
        return status, owner(port, writer.get_extra_info("sockname")[1], candidates)
    finally:
        writer.close()


async def until_workers(parent: int, count: int, without: set[int], within: float = 30.0) -> set[int]:
    """Waits until ``parent`` has ``count`` workers, none of them in ``without``."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        workers = children(parent)
        if len(workers) == count and not workers & without:
            return workers
        await asyncio.sleep(0.05)
    raise AssertionError(f"workers of {parent}: {children(parent)}, wanted {count} besides {without}")


@dataclass
class Served:
    """``serve --workers 2`` running, ready, with its two first workers."""

    server: Component
    port: int
    parent: int
    first: int
    second: int

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextlib.asynccontextmanager
async def two_workers(database_url: str, tmp_path: Path) -> AsyncIterator[Served]:
    """``serve`` with two workers as a process (its own process group), stopped when the block ends."""
    port = free_port()
    server = Component(
        ["serve", "--port", str(port), "--workers", "2"],
        {**gateway_env(database_url, tmp_path), "GATEWAY_RELAY_ENABLED": "false"},
    )
    server.start()
    try:
        assert server.proc is not None
        parent = server.proc.pid
        await ready(f"http://127.0.0.1:{port}")
        first, second = sorted(await until_workers(parent, 2, set()))
        yield Served(server, port, parent, first, second)
    finally:
        server.stop()


async def test_a_killed_worker_is_replaced_and_the_other_serves_meanwhile(
    database_url: str, tmp_path: Path
) -> None:
    async with two_workers(database_url, tmp_path) as served:
        os.kill(served.first, signal.SIGKILL)
        # While the replacement starts, the other worker answers (new connections: none rides a dead one).
        for _ in range(5):
            async with httpx.AsyncClient(timeout=5) as http:
                assert (await http.get(f"{served.base}/readyz")).status_code == 200
        (replacement,) = (await until_workers(served.parent, 2, {served.first})) - {served.second}
        assert served.server.proc is not None
        assert served.server.proc.poll() is None

        # Each worker listens on a socket of its own (SO_REUSEPORT), so connections spread over both: within a
        # few, one lands on the replacement, which answers it once its app has started.
        workers = {served.second, replacement}
        answers = [await answered_by(served.port, workers) for _ in range(40)]
        assert {status for status, _ in answers} == {200}
        assert {worker for _, worker in answers} == workers
    assert served.server.proc.returncode == 0


async def test_a_worker_that_dies_again_at_once_ends_the_server_with_a_failure(
    database_url: str, tmp_path: Path
) -> None:
    async with two_workers(database_url, tmp_path) as served:
        os.kill(served.first, signal.SIGKILL)
        (replacement,) = (await until_workers(served.parent, 2, {served.first})) - {served.second}
        # A crash loop: the same worker dies again within 5.5 s of being replaced. The server exits, with a
        # failure, for its supervisor to see, rather than replace it forever.
        os.kill(replacement, signal.SIGKILL)
        assert served.server.proc is not None
        assert await asyncio.to_thread(served.server.proc.wait, 30) == 1
        assert not Path(f"/proc/{served.second}").exists()  # the healthy worker was stopped with it
