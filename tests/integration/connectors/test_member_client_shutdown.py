"""pyreqwest runs its own Tokio runtime in threads of the process: a process that used it must still exit
cleanly, with calls answered, in flight or never closed (``shared/reference/performance.md`` saw an earlier
release abort at interpreter exit). Each case runs in a fresh interpreter, several times."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

RUNS = 3

SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    import uvloop
    from adapters.connectors.member_client import new_member_client

    async def main(answering, hanging, mode):
        clients = [new_member_client("pyreqwest", 4) for _ in range(3)]
        answers = await asyncio.gather(
            *(c.get(answering, {}, limit=1024, error_limit=1024) for c in clients for _ in range(4))
        )
        assert [a.status for a in answers] == [200] * 12, answers
        pending = [
            asyncio.ensure_future(c.get(hanging, {}, limit=1024, error_limit=1024)) for c in clients
        ]
        await asyncio.sleep(0.05)
        if mode == "cancel":
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if mode in ("close", "cancel"):
            for c in clients:
                await c.close()
        print("done", flush=True)

    uvloop.run(main(sys.argv[1], sys.argv[2], sys.argv[3]))
    """
)


class _Answer(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b'{"items": []}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def addresses() -> Iterator[tuple[str, str]]:
    """An answering server, and a listening socket that never answers (calls to it stay in flight)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(64)
        yield (
            f"http://127.0.0.1:{server.server_address[1]}/persons",
            f"http://127.0.0.1:{silent.getsockname()[1]}/hang",
        )
    server.shutdown()


@pytest.mark.parametrize("mode", ["close", "cancel", "in-flight, never closed"])
def test_the_process_exits_cleanly(addresses: tuple[str, str], mode: str) -> None:
    answering, hanging = addresses
    for _ in range(RUNS):
        done = subprocess.run(
            [sys.executable, "-c", SCRIPT, answering, hanging, mode],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert "Fatal Python error" not in done.stderr, done.stderr
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "done"
