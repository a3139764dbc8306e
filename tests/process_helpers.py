"""The gateway's commands as processes (``serve``, ``relay``, ``demo``): found, started, killed, awaited."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from oauth_helpers import ISSUER

__all__ = ["Component", "cli", "free_port", "gateway_env", "ready"]

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def cli() -> list[str]:
    """The ``consortium-gateway`` command of this interpreter's environment (or on PATH)."""
    script = Path(sys.executable).parent / "consortium-gateway"
    if script.exists():
        return [str(script)]
    found = shutil.which("consortium-gateway")
    return [found] if found else [sys.executable, "-m", "gateway.cli"]


class Component:
    """A process in its own process group, killed with SIGKILL and started again."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.args, self.env = args, env
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [*cli(), *self.args],
            env=self.env,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


async def ready(base: str, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(timeout=1) as http:
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.TransportError):
                if (await http.get(f"{base}/readyz")).status_code == 200:
                    return
            await asyncio.sleep(0.05)
    raise AssertionError("the gateway did not come back")


def gateway_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    """The environment of a gateway or relay process on ``database_url``: quick ticks, no inherited
    ``GATEWAY_`` settings, this checkout on the path."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")},
        "DATABASE_URL": database_url,
        "GATEWAY_ISSUER": ISSUER,
        "GATEWAY_KEYS_DIR": str(tmp_path / "keys"),
        "GATEWAY_DATA_DIR": str(tmp_path / "var"),
        "GATEWAY_LOG_LEVEL": "ERROR",
        "GATEWAY_OUTBOUND_ALLOW_LOOPBACK": "true",
        "GATEWAY_RELAY_POLL_INTERVAL": "0.05",
        "GATEWAY_WEBHOOK_TIMEOUT": "1",
        "GATEWAY_WEBHOOK_RETRY_BASE": "0.05",
        "GATEWAY_TRUST_REFRESH_INTERVAL": "0.5",
        "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p),
    }
