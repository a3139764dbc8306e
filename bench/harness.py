"""Shared machinery for HTTP benchmarks: a real gateway process on loopback, and wrk as the load.

The gateway runs as ``consortium-gateway serve`` on its own embedded PostgreSQL in a temporary directory,
with a bench consortium whose member clients have real keys. wrk (Debian package ``wrk``) generates the
load: it is much faster than any Python client, so the gateway, not the load generator, is measured.
Every process runs in its own process group and is stopped by the harness; runs are bounded in time.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import msgspec
from joserfc.jwk import ECKey, OKPKey, RSAKey

__all__ = [
    "BenchClient",
    "Gateway",
    "WrkResult",
    "consortium_toml",
    "free_port",
    "gateway",
    "new_client",
    "process_cpu_seconds",
    "process_group",
    "require_wrk",
    "serving",
    "wrk",
    "wrk_ms",
]

REPO = Path(__file__).resolve().parents[1]
SCOPES = ["members:read", "recognition:read", "mobility:read", "mobility:write", "mobility:decide"]


def require_wrk() -> str:
    found = shutil.which("wrk")
    if found is None:
        sys.exit("this benchmark needs wrk: apt-get install -y wrk")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _cli() -> list[str]:
    script = Path(sys.executable).parent / "consortium-gateway"
    return [str(script)] if script.exists() else [sys.executable, "-m", "gateway.cli"]


@dataclass
class BenchClient:
    client_id: str
    alg: str
    key: Any

    def toml(self, scopes: list[str] | None = None) -> str:
        """The client's entry in a consortium file (``scopes``: the harness's ``SCOPES`` by default)."""
        public = self.key.as_dict(private=False)
        fields = ", ".join(f"{k} = {msgspec.json.encode(v).decode()}" for k, v in public.items())
        return (
            f'\n[[members.clients]]\nclient_id = "{self.client_id}"\n'
            f"scopes = {msgspec.json.encode(SCOPES if scopes is None else scopes).decode()}\n"
            f"[members.clients.keys]\njwks = {{ keys = [{{ {fields} }}] }}\n"
        )


def new_client(alg: str) -> BenchClient:
    kid = f"bench-{alg.lower()}"
    if alg == "Ed25519":
        key: Any = OKPKey.generate_key("Ed25519", parameters={"kid": kid, "alg": alg}, private=True)
    elif alg == "ES256":
        key = ECKey.generate_key("P-256", parameters={"kid": kid, "alg": alg}, private=True)
    else:
        key = RSAKey.generate_key(2048, parameters={"kid": kid, "alg": alg}, private=True)
    return BenchClient(client_id=f"bench.example:{alg.lower()}", alg=alg, key=key)


@dataclass
class Gateway:
    base: str
    issuer: str
    proc: subprocess.Popen[bytes]
    data_dir: Path

    @property
    def dsn(self) -> str:
        """The gateway's embedded PostgreSQL (a Unix socket in its data directory)."""
        return f"postgresql://postgres@/postgres?host={self.data_dir / 'postgres'}"

    def cpu_seconds(self) -> float:
        """utime + stime of the gateway's process tree (parent and workers) and of its embedded PostgreSQL,
        which runs as a daemon of its own (not a child of the gateway): found by its ``postmaster.pid``."""
        total = process_cpu_seconds(self.proc.pid)
        with contextlib.suppress(OSError, ValueError, IndexError):
            postmaster = int((self.data_dir / "postgres" / "postmaster.pid").read_text().split()[0])
            total += process_cpu_seconds(postmaster)
        return total


def process_cpu_seconds(root: int) -> float:
    """utime + stime of a process and all its descendants."""
    total = 0.0
    for pid in _tree(root):
        with contextlib.suppress(OSError), open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError), open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def consortium_toml(clients: list[BenchClient], members: dict[str, str]) -> str:
    """The bench consortium file: ``members`` (id -> framework), ``clients`` belonging to the first."""
    parts = ['[consortium]\nid = "bench"\nname = "Bench"\n']
    for index, (member_id, framework) in enumerate(members.items()):
        parts.append(
            f'[[members]]\nid = "{member_id}"\nname = "{member_id}"\ncountry = "GB"\n'
            f'framework = "{framework}"\nconnector = {{ id = "ooapi" }}\n'
        )
        if index == 0:
            parts.extend(c.toml() for c in clients)
    return "".join(parts)


@contextlib.contextmanager
def gateway(
    clients: list[BenchClient],
    *,
    workers: int = 2,
    env: dict[str, str] | None = None,
    members: dict[str, str] | None = None,
) -> Iterator[Gateway]:
    """A gateway serving on a free loopback port; ``members`` (id -> framework, default one bench member)
    are registered, and ``clients`` belong to the first of them."""
    members = members or {"bench.example": "uk-fheq"}
    with tempfile.TemporaryDirectory(prefix="cgw-bench-") as tmp:
        data = Path(tmp)
        port = free_port()
        consortium = data / "consortium.toml"
        consortium.write_text(consortium_toml(clients, members))
        with serving(data, consortium, port, workers=workers, env=env) as running:
            time.sleep(1.0)  # let every worker finish its start-up
            yield running


@contextlib.contextmanager
def serving(
    data: Path,
    consortium: Path,
    port: int,
    *,
    workers: int,
    env: dict[str, str] | None = None,
    inherit: Callable[[str], bool] = lambda name: name != "DATABASE_URL",
) -> Iterator[Gateway]:
    """Sync ``consortium`` and serve this checkout's gateway on ``port`` (embedded PostgreSQL in ``data``)
    until the block exits; its whole process group is stopped then. ``inherit`` picks the variables of
    this process's environment the gateway gets; ``env`` adds to them."""
    issuer = f"http://127.0.0.1:{port}"
    full_env = {
        **{k: v for k, v in os.environ.items() if inherit(k)},
        "GATEWAY_DATA_DIR": str(data / "var"),
        "GATEWAY_ISSUER": issuer,
        "GATEWAY_LOG_LEVEL": "WARNING",
        # The gateway of this checkout, whatever an editable install elsewhere points at.
        "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p),
        **(env or {}),
    }
    subprocess.run(
        [*_cli(), "members", "sync", str(consortium)], env=full_env, check=True, capture_output=True
    )
    command = [*_cli(), "serve", "--port", str(port), "--workers", str(workers)]
    with process_group(command, full_env, f"{issuer}/readyz", what="the gateway") as proc:
        yield Gateway(base=issuer, issuer=issuer, proc=proc, data_dir=data / "var")


@contextlib.contextmanager
def process_group(
    command: list[str], env: dict[str, str], ready_url: str, *, what: str, wait: float = 60
) -> Iterator[subprocess.Popen[bytes]]:
    """``command`` in a process group of its own, once ``ready_url`` answers 200 (within ``wait``
    seconds); the whole group is stopped when the block exits."""
    proc = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        deadline = time.monotonic() + wait
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(ready_url, timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"{what} did not become ready")
            time.sleep(0.2)
        yield proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@dataclass
class WrkResult:
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int
    cpu_us_per_request: float | None = None


_UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk_ms(text: str) -> float:
    """A wrk latency (``812.00us``, ``1.20ms``, ``2.01s``) in milliseconds."""
    match = re.match(r"([\d.]+)(us|ms|s)", text)
    return float(match[1]) * _UNIT[match[2]] if match else float("nan")


def wrk(
    url: str,
    *,
    seconds: int = 5,
    connections: int = 32,
    threads: int = 1,
    script: Path | None = None,
    script_args: list[str] | None = None,
    headers: dict[str, str] | None = None,
    gateway_process: Gateway | None = None,
) -> WrkResult:
    command = [
        require_wrk(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "--timeout",
        "5s",
    ]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    if script is not None:
        command += ["-s", str(script)]
    before = gateway_process.cpu_seconds() if gateway_process else None
    tail = ["--", *script_args] if script_args else []  # wrk hands these to the script's init(args)
    out = subprocess.run(
        [*command, url, *tail], capture_output=True, text=True, timeout=seconds + 30, check=True
    ).stdout
    after = gateway_process.cpu_seconds() if gateway_process else None
    requests = int(re.search(r"(\d+) requests in", out)[1])  # type: ignore[index]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])  # type: ignore[index]
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    cpu = (after - before) / requests * 1e6 if before is not None and after is not None and requests else None
    return WrkResult(
        requests=requests,
        rps=rps,
        p50_ms=wrk_ms(p50[1]) if p50 else float("nan"),
        p99_ms=wrk_ms(p99[1]) if p99 else float("nan"),
        non_2xx=int(non2xx[1]) if non2xx else 0,
        socket_errors=sum(int(g) for g in errors.groups()) if errors else 0,
        cpu_us_per_request=cpu,
    )
