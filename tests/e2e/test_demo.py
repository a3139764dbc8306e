"""The demo as a newcomer runs it: the real `consortium-gateway demo` process, over HTTP on loopback."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from process_helpers import cli, free_port

from gateway.members.consortium_file import load_consortium_file

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]


def _free_ports(count: int) -> int:
    """The first of ``count`` consecutive free ports."""
    for _ in range(50):
        base = random.randrange(20_000, 30_000)
        sockets = []
        try:
            for port in range(base, base + count):
                s = socket.socket()
                sockets.append(s)
                s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise AssertionError("no run of free ports")


class Demo:
    def __init__(self, data_dir: Path, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.data_dir = data_dir
        environment = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "GATEWAY_ISSUER")}
        environment["GATEWAY_DATA_DIR"] = str(data_dir)
        # The gateway of this checkout, whatever an editable install elsewhere points at.
        environment["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(REPO), environment.get("PYTHONPATH", "")) if p
        )
        environment.update(env or {})
        self.env = environment
        self.proc = subprocess.Popen(
            # Registries on free ports: the default (the gateway's port + 101...) may be taken here.
            [*cli(), "demo", "--port", str(self.port), "--registry-port", str(_free_ports(5))],
            cwd=REPO,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group, so the test can always stop all of it
        )

    def wait_ready(self, timeout: float = 60) -> float:
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"demo exited early:\n{self.proc.stdout.read() if self.proc.stdout else ''}"
                )
            try:
                if httpx.get(f"{self.base}/readyz", timeout=1).status_code == 200:
                    return time.monotonic() - start
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError("demo not ready in time")

    def client_file(self, member: str) -> Path:
        return self.data_dir / "demo" / "clients" / f"{member}.json"

    def token(self, member: str, *scopes: str) -> str:
        """A token for ``member``, got the way the README says: ``consortium-gateway token``."""
        scope_args = [arg for scope in scopes for arg in ("--scope", scope)]
        return subprocess.run(
            [*cli(), "token", "--client-file", str(self.client_file(member)), *scope_args],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
            env=self.env,
        ).stdout.strip()

    def output_line(self, starts_with: str, timeout: float = 10) -> str:
        """The first line of the demo's start-up text that starts with ``starts_with`` (stripped)."""
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if line.strip().startswith(starts_with):
                return line.strip()
        raise AssertionError(f"no line starting with {starts_with!r}")

    def stopped_output(self, detail: str, lines: int = 80) -> str:
        """``detail``, then the last ``lines`` of what the demo printed (it is stopped to read them): for the
        message of an assertion that failed."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.stop()
        printed = self.proc.stdout.read() if self.proc.stdout else ""
        return detail + "\n--- the demo's output:\n" + "\n".join(printed.splitlines()[-lines:])

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
                raise
        return self.proc.returncode


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    running = Demo(tmp_path / "var")
    try:
        yield running
    finally:
        if running.proc.poll() is None:
            os.killpg(running.proc.pid, signal.SIGKILL)
            running.proc.wait()


def test_demo_serves_members_and_stops_cleanly(demo: Demo) -> None:
    waited = demo.wait_ready()
    assert waited < 30, f"ready after {waited:.1f}s"

    anonymous = httpx.get(f"{demo.base}/v1/members", timeout=5)
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"

    # Act as a member, the way the README says: the CLI turns a client file into a token.
    expected = sorted(m.id for m in load_consortium_file(REPO / "deploy/demo/consortium.toml").members)
    assert oct(demo.client_file(expected[-1]).stat().st_mode & 0o777) == "0o600"
    auth = {"Authorization": f"Bearer {demo.token(expected[-1])}"}
    members = httpx.get(f"{demo.base}/v1/members", headers=auth, timeout=5)
    assert members.status_code == 200
    assert [m["id"] for m in members.json()["items"]] == expected

    problem = httpx.get(f"{demo.base}/v1/members/nowhere.example", headers=auth, timeout=5)
    assert problem.status_code == 404
    assert problem.headers["content-type"] == "application/problem+json"

    meta = httpx.get(f"{demo.base}/.well-known/oauth-authorization-server", timeout=5).json()
    assert meta["issuer"] == demo.base

    docs = httpx.get(f"{demo.base}/schema/openapi.json", timeout=5)
    assert docs.status_code == 200
    assert docs.json()["openapi"].startswith("3.1")

    assert demo.stop() == 0
    output = demo.proc.stdout.read() if demo.proc.stdout else ""
    assert f"{demo.base}/v1/members" in output  # it told the user what to try
    # The embedded server was stopped with it.
    assert not (demo.data_dir / "postgres" / "postmaster.pid").exists()


def test_second_start_reuses_the_data(tmp_path: Path) -> None:
    first = Demo(tmp_path / "var")
    try:
        first.wait_ready()
        assert first.stop() == 0
        second = Demo(tmp_path / "var")
        try:
            second.wait_ready()
            token = second.token("uni-avalon.ac.uk", "members:read")
            members = httpx.get(
                f"{second.base}/v1/members", headers={"Authorization": f"Bearer {token}"}, timeout=5
            )
            assert len(members.json()["items"]) == 5
            assert second.stop() == 0
        finally:
            if second.proc.poll() is None:
                os.killpg(second.proc.pid, signal.SIGKILL)
    finally:
        if first.proc.poll() is None:
            os.killpg(first.proc.pid, signal.SIGKILL)
