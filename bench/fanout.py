"""Federated lookup (``GET /v1/learners/{esi}/credentials``): workloads W1, W2, W3 and W7 of performance.md
and the R26 hung-member check, against nginx mock members, with the floors measured in the same run.

- W1: N = 1, 5, 20 (and 50) healthy members; lookups/s, p50/p99, CPU per lookup, non-2xx and partial
  answers (in a healthy run a partial answer means over capacity). At N = 1 the same member is also
  reached through an nginx reverse proxy (the floor of a proxy hop) and through express-gateway (npm, the
  peer), alternated with the gateway. At N = 5 and 20 the floor of the stack itself is measured too,
  alternated with the gateway: ``bench.bare_fanout``, the same server (granian, 2 workers, uvloop) and
  member client (the gateway's default, pyreqwest, one per member) asking the same members and doing
  nothing else. At N = 20 the gateway with its other member client (aiohttp) is alternated as well.
- W2: N = 5 and 20 with one member slower than the deadline ``T`` (asked for with ``Request-Timeout-Ms``)
  on a gateway whose breaker never opens, so every lookup waits for the deadline: p50 <= T + 10 ms,
  p99 <= T + 75 ms, every answer partial.
- W3: N = 20 with a refused, a malformed and a 503 member against the same gateway's 20 healthy members
  (alternated; production breaker settings): >= 0.9x, with the right outcome for each member.
- R26: N = 20 with one member hung against 20 healthy (alternated): p99 <= 2x. A first run with the member
  hung, in which each worker's breaker counts the failures that open it (those lookups wait for the
  deadline), is reported on its own; the alternated runs follow it, with the breakers open.
- W7: N = 5 with the production tracing configuration (OTLP/HTTP exporter with its batch processor, to a
  local sink that drops the spans; the gateway's production sampler, ``parentbased_ratelimiting`` at 10
  traces a second per worker) against no tracing (and, for information, against a ratio sampler
  (``--sample-ratio``, 10 %), 100% sampling and the gateway traced with its other member client,
  aiohttp), alternated: tracing costs <= 20% of throughput.

Each member is one ``listen`` port of one nginx (``bench.nginx_members``) serving the bytes the OOAPI
sandbox would; the learner has ``--credentials`` awarded credentials at every member and, with
``--link all``, is linked at every member (else only at the home member: the others are searched by ESI).
Production mode: the gateway with 2 granian workers, wrk (one thread) and nginx on the same 2-core machine.
The gateways' workers, and the floor's, are pinned to a CPU each (``GATEWAY_WORKER_CPU_AFFINITY=auto``,
``--cpu-affinity off`` to leave them to the scheduler), and their threads run under ``SCHED_BATCH``, the
gateway's default (``GATEWAY_WORKER_SCHEDULING=batch``; ``--scheduling normal`` for the system's default
policy). W1/W7 N=5 then also runs the production gateway unpinned, and under the default policy, alternated
with the rest, so every run shows what each wins.

    python -m bench.fanout [--quick] [--members 1,5,20,50] [--duration 5] [--rounds 3] [--cpu-affinity off]
                           [--scheduling normal]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import re
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import msgspec
from joserfc.jwk import OKPKey

from adapters.connectors.sandbox import SharedLearner, esi_urn
from bench.bare_fanout import BareFanOut, bare_fan_out
from bench.harness import BenchClient, Gateway, require_wrk, serving, wrk_ms
from bench.nginx_members import (
    MemberSite,
    MemberSpec,
    Proxy,
    express_gateway,
    free_port,
    install_express_gateway,
    nginx_members,
    nginx_proxy,
)
from bench.tokens import _bodies

DOMAIN = "bench.example"
HOME = f"m01.{DOMAIN}"
ESI = esi_urn(HOME, "4711")


def esis(count: int) -> list[str]:
    """The learners of the run (home: the first member); lookups cycle through them."""
    return [esi_urn(HOME, str(4711 + i)) for i in range(count)]


PURPOSE = "credit-transfer"
FRAMEWORKS = ("uk-fheq", "scqf", "ects", "us-semester")
FAULTS = {
    "slow": "slow",
    "hung": "hung",
    "refused": "refused",
    "malformed": "malformed",
    "down": "unavailable",
}
SCOPES = ["learners:write", "credentials:read"]
EG_DIR = Path.home() / ".cache" / "consortium-gateway-bench" / "express-gateway"

# Counts answers that say "partial":true (msgspec writes no spaces), per wrk thread, summed in done().
LUA = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  partial = 0
  paths = {}
  if args[1] then for line in io.lines(args[1]) do table.insert(paths, line) end end
  idx = 0
end
function request()
  if #paths == 0 then return wrk.format() end
  idx = idx % #paths + 1
  return wrk.format(nil, paths[idx])
end
function response(status, headers, body)
  if status == 200 and string.find(body, '"partial":true', 1, true) then partial = partial + 1 end
  if status ~= 200 then local k = "s" .. status; _G[k] = (_G[k] or 0) + 1 end
end
function done(summary, latency, requests)
  local p = 0
  for _, t in ipairs(threads) do p = p + t:get("partial") end
  io.write(string.format("BENCH partial=%d\\n", p))
  for code = 201, 599 do
    local n = 0
    for _, t in ipairs(threads) do n = n + (t:get("s" .. code) or 0) end
    if n > 0 then io.write(string.format("BENCH status=%d count=%d\\n", code, n)) end
  end
end
"""


def ok_id(index: int) -> str:
    return f"m{index:02d}.{DOMAIN}"


def fault_id(name: str) -> str:
    return f"{name}.{DOMAIN}"


# --- measurement -------------------------------------------------------------------------------------


@dataclass
class Run:
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    errors: int
    partial: int | None
    cpu_us: float | None
    statuses: dict[int, int] = field(default_factory=dict)  # every answer but 200, by status (with ``lua``)


def run_wrk(
    url: str,
    *,
    seconds: float,
    connections: int,
    headers: dict[str, str] | None = None,
    lua: Path | None = None,
    paths: list[str] | None = None,
    cpu: Callable[[], float] | None = None,
) -> Run:
    """One wrk run; with ``paths`` (and the Lua script), requests cycle through them."""
    command = [require_wrk(), "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency", "--timeout", "5s"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    if lua is not None:
        command += ["-s", str(lua)]
    with tempfile.TemporaryDirectory(prefix="cgw-bench-wrk-") as tmp:
        tail: list[str] = []
        if paths:
            listing = Path(tmp) / "paths.txt"
            listing.write_text("\n".join(paths) + "\n")
            tail = ["--", str(listing)]
        before = cpu() if cpu else None
        out = subprocess.run(
            [*command, url, *tail], capture_output=True, text=True, timeout=seconds + 30, check=True
        ).stdout
    after = cpu() if cpu else None
    requests = int(re.search(r"(\d+) requests in", out)[1])  # type: ignore[index]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])  # type: ignore[index]
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    partial = re.search(r"BENCH partial=(\d+)", out)
    return Run(
        requests=requests,
        rps=rps,
        p50_ms=wrk_ms(p50[1]) if p50 else float("nan"),
        p99_ms=wrk_ms(p99[1]) if p99 else float("nan"),
        non_2xx=int(non2xx[1]) if non2xx else 0,
        errors=sum(int(g) for g in errors.groups()) if errors else 0,
        partial=int(partial[1]) if partial else None,
        cpu_us=(after - before) / requests * 1e6
        if before is not None and after is not None and requests
        else None,
        statuses={int(code): int(n) for code, n in re.findall(r"BENCH status=(\d+) count=(\d+)", out)},
    )


# --- the gateway -------------------------------------------------------------------------------------


@dataclass
class Client:
    member: str
    bench: BenchClient

    def toml(self) -> str:
        return self.bench.toml(SCOPES)


def member_client(member: str) -> Client:
    """A member's bench client (Ed25519, private_key_jwt)."""
    key = OKPKey.generate_key("Ed25519", parameters={"kid": "bench", "alg": "Ed25519"}, private=True)
    return Client(member, BenchClient(client_id=f"{member}:bench", alg="Ed25519", key=key))


def consortium_for(sites: list[MemberSite], clients: dict[str, Client]) -> str:
    """The consortium file of the mock members, each on the OOAPI connector, with its clients."""
    parts = ['[consortium]\nid = "bench-fanout"\nname = "Bench fan-out"\n']
    for site in sites:
        member = site.spec.member_id
        settings = {"base_url": site.base_url, "client_id": "consortium-gateway"}
        endpoints = {"issuer": f"https://registry.{member}", "token": site.token_endpoint}
        inline = ", ".join(f"{k} = {msgspec.json.encode(v).decode()}" for k, v in settings.items())
        ends = ", ".join(f"{k} = {msgspec.json.encode(v).decode()}" for k, v in endpoints.items())
        parts.append(
            f'\n[[members]]\nid = "{member}"\nname = "{member}"\ncountry = "GB"\n'
            f'framework = "{site.spec.framework}"\n'
            f'connector = {{ id = "ooapi", settings = {{ {inline} }} }}\nendpoints = {{ {ends} }}\n'
        )
        if member in clients:
            parts.append(clients[member].toml())
    return "".join(parts)


@dataclass
class Lookup:
    """A started gateway with its consortium: tokens, the lookup URL, and the members' clients."""

    gw: Gateway
    clients: dict[str, Client]
    caller: str
    learners: list[str]

    def token(self, member: str) -> str:
        body = _bodies(self.clients[member].bench, self.gw.issuer, 1)[0]
        response = httpx.post(
            f"{self.gw.base}/oauth/token",
            content=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=60,  # an overloaded gateway answers late; the token is still needed
        )
        response.raise_for_status()
        token: str = response.json()["access_token"]
        return token

    def url(self, members: list[str] | None = None, esi: str = ESI) -> str:
        return self.gw.base + self.path(members, esi)

    def path(self, members: list[str] | None = None, esi: str = ESI) -> str:
        query = f"purpose={PURPOSE}&limit=100"
        if members is not None:
            query += "&members=" + ",".join(members)
        return f"/v1/learners/{esi}/credentials?{query}"

    def paths(self, members: list[str] | None = None) -> list[str]:
        return [self.path(members, esi) for esi in self.learners]

    def load(
        self,
        lua: Path,
        *,
        seconds: float,
        connections: int,
        members: list[str] | None = None,
        deadline_ms: int | None = None,
    ) -> Run:
        """A wrk run of lookups cycling through the learners (``lua`` counts partial answers), with the
        gateway's CPU per lookup."""
        return run_wrk(
            self.url(members),
            seconds=seconds,
            connections=connections,
            headers=self.headers(deadline_ms),
            lua=lua,
            paths=self.paths(members),
            cpu=self.gw.cpu_seconds,
        )

    def headers(self, deadline_ms: int | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token(self.caller)}"}
        if deadline_ms is not None:
            headers["Request-Timeout-Ms"] = str(deadline_ms)
        return headers


@contextlib.contextmanager
def lookup_gateway(
    sites: list[MemberSite],
    *,
    link: str,
    env: dict[str, str],
    workers: int,
    learners: list[str],
) -> Iterator[Lookup]:
    """The gateway (``consortium-gateway serve``, its own embedded PostgreSQL) with ``sites`` as members;
    the learner linked (at the home member, or at every healthy member) and consenting to the caller."""
    healthy = [s for s in sites if s.spec.kind == "ok"]
    caller = healthy[-1].spec.member_id
    clients = {s.spec.member_id: member_client(s.spec.member_id) for s in healthy}
    with tempfile.TemporaryDirectory(prefix="cgw-bench-fanout-") as tmp:
        data = Path(tmp)
        port = free_port()
        consortium = data / "consortium.toml"
        consortium.write_text(consortium_for(sites, clients))
        bench_env = {"GATEWAY_LOG_LEVEL": "ERROR", "GATEWAY_OUTBOUND_ALLOW_LOOPBACK": "true", **env}
        with serving(
            data,
            consortium,
            port,
            workers=workers,
            env=bench_env,
            # The workload's own tracing settings only: none inherited from this shell.
            inherit=lambda name: name != "DATABASE_URL" and not name.startswith("OTEL_"),
        ) as gw:
            lookup = Lookup(gw, clients, caller, learners)
            _consent(lookup, healthy, link)
            time.sleep(0.5)
            yield lookup


def _consent(lookup: Lookup, healthy: list[MemberSite], link: str) -> None:
    """Every member links each learner to its own person (or only the home member does), and the home
    member records each learner's consent for the caller; concurrently, over the API."""
    base = lookup.gw.base
    linking = healthy if link == "all" else healthy[:1]
    auths = {s.spec.member_id: {"Authorization": f"Bearer {lookup.token(s.spec.member_id)}"} for s in linking}
    until = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).isoformat()
    consent = {
        "recipient": lookup.caller,
        "purpose": PURPOSE,
        "valid_until": until,
        "consent_text_version": "v1",
    }

    def one(client: httpx.Client, esi: str, site: MemberSite | None) -> None:
        if site is None:
            answer = client.post(f"{base}/v1/learners/{esi}/consents", json=consent, headers=auths[HOME])
        else:
            body = {"local_id": site.person_ids[esi]}
            answer = client.put(
                f"{base}/v1/learners/{esi}/link", json=body, headers=auths[site.spec.member_id]
            )
        if answer.status_code not in (200, 201):
            raise RuntimeError(f"set-up: {answer.status_code} {answer.text}")

    with httpx.Client(timeout=30) as client, ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda job: one(client, *job), [(e, s) for e in lookup.learners for s in linking]))
        list(pool.map(lambda esi: one(client, esi, None), lookup.learners))


@dataclass
class Check:
    statuses: dict[str, str]
    items: int
    partial: bool


def one_lookup(lookup: Lookup, members: list[str] | None = None, deadline_ms: int | None = None) -> Check:
    response = httpx.get(lookup.url(members), headers=lookup.headers(deadline_ms), timeout=30)
    if response.status_code != 200:
        raise RuntimeError(f"lookup: {response.status_code} {response.text[:500]}")
    body = response.json()
    statuses = {o["member"]: o["status"] for o in body["members"] if o["status"] != "skipped"}
    return Check(statuses, len(body["items"]), bool(body["partial"]))


def expect_healthy(lookup: Lookup, sites: list[MemberSite], members: list[str] | None = None) -> Check:
    """One real lookup: every asked healthy member answers ``ok`` with the expected number of items."""
    check = one_lookup(lookup, members)
    asked = [s for s in sites if members is None or s.spec.member_id in members]
    wanted = sum(s.awarded for s in asked)
    bad = {m: s for m, s in check.statuses.items() if s != "ok"}
    if bad or check.partial or check.items != wanted or len(check.statuses) != len(asked):
        raise RuntimeError(f"validation lookup: not ok {bad}, items {check.items} (want {wanted})")
    return check


# --- reporting ---------------------------------------------------------------------------------------


@dataclass
class Table:
    rows: list[tuple[str, str, Run, float | None]] = field(default_factory=list)

    def add(self, workload: str, variant: str, run: Run, calls: float | None = None) -> Run:
        self.rows.append((workload, variant, run, calls))
        print("  " + _row(workload, variant, run, calls), flush=True)
        return run


HEADER = (
    f"{'workload':10} {'variant':38} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'cpu us':>7} "
    f"{'non2xx':>6} {'errors':>6} {'partial':>7} {'calls/s':>8}"
)


def _row(workload: str, variant: str, r: Run, calls: float | None) -> str:
    cpu = f"{r.cpu_us:7.0f}" if r.cpu_us is not None else "      -"
    partial = f"{r.partial:7d}" if r.partial is not None else "      -"
    member_calls = f"{r.rps * calls:8.0f}" if calls else "       -"
    return (
        f"{workload:10} {variant:38} {r.rps:8.0f} {r.p50_ms:8.1f} {r.p99_ms:8.1f} {cpu} "
        f"{r.non_2xx:6d} {r.errors:6d} {partial} {member_calls}"
        + "".join(f"  {code}x{n}" for code, n in sorted(r.statuses.items()))
    )


def ratio(a: list[float], b: list[float]) -> tuple[float, float, float]:
    values = [x / y for x, y in zip(a, b, strict=True) if y]
    return statistics.median(values), min(values), max(values)


def fmt_ratio(name: str, r: tuple[float, float, float]) -> str:
    return f"{name}: median {r[0]:.2f} (range {r[1]:.2f}-{r[2]:.2f})"


def median_run(runs: list[Run]) -> Run:
    return sorted(runs, key=lambda r: r.rps)[len(runs) // 2]


# --- main --------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description="federated lookup fan-out benchmark (W1-W3, W7, R26)")
    parser.add_argument("--members", default="1,5,20,50", help="W1 fan-out sizes (comma-separated)")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per wrk run (<= 15)")
    parser.add_argument("--rounds", type=int, default=3, help="A/B pairs where a ratio is reported")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--credentials", type=int, default=1, help="awarded credentials at each member")
    parser.add_argument("--link", choices=["all", "home"], default="all")
    parser.add_argument(
        "--learners", type=int, default=64, help="distinct learners the lookups cycle through"
    )
    parser.add_argument("--deadline-ms", type=int, default=500, help="T for W2 and R26 (Request-Timeout-Ms)")
    parser.add_argument("--w2-connections", type=int, default=16)
    parser.add_argument("--r26-connections", type=int, default=8)
    parser.add_argument(
        "--sample-ratio", type=float, default=0.1, help="the ratio of W7's parentbased_traceidratio variant"
    )
    parser.add_argument(
        "--cpu-affinity",
        choices=["auto", "off"],
        default="auto",
        help="GATEWAY_WORKER_CPU_AFFINITY of the gateways and the floor (auto: a CPU of its own per worker)",
    )
    parser.add_argument(
        "--scheduling",
        choices=["batch", "normal"],
        default="batch",
        help="GATEWAY_WORKER_SCHEDULING of the gateways and the floor (batch: threads under SCHED_BATCH)",
    )
    parser.add_argument("--no-express-gateway", action="store_true")
    parser.add_argument("--express-gateway-dir", type=Path, default=EG_DIR)
    parser.add_argument("--quick", action="store_true", help="N = 1, 5, 20; 3 s runs (W2: 10 s)")
    args = parser.parse_args()
    if args.quick:
        args.members, args.duration = "1,5,20", 3.0
    sizes = sorted({int(n) for n in args.members.split(",")})
    seconds = min(args.duration, 15.0)
    rounds = max(args.rounds, 3)
    require_wrk()
    started = time.monotonic()

    learner_ids = esis(args.learners if args.link == "all" else 1)  # /persons serves one learner only
    learners = [
        SharedLearner(esi=e, given_name="Sam", surname="Okafor", passed=args.credentials) for e in learner_ids
    ]
    healthy_count = max([*sizes, 20])
    specs = [MemberSpec(ok_id(i), FRAMEWORKS[(i - 1) % len(FRAMEWORKS)]) for i in range(1, healthy_count + 1)]
    specs += [MemberSpec(fault_id(name), "ects", kind) for name, kind in FAULTS.items()]  # type: ignore[arg-type]
    deadline_ms = args.deadline_ms
    slow_s = 4 * deadline_ms / 1000
    # Every gateway's workers pinned to CPUs, or not (gateway.affinity), under SCHED_BATCH or not
    # (gateway.scheduling); with an exporter and no sampler named, the gateway's own sampler,
    # parentbased_ratelimiting (gateway.sampling).
    production = {
        "GATEWAY_WORKER_CPU_AFFINITY": args.cpu_affinity,
        "GATEWAY_WORKER_SCHEDULING": args.scheduling,
        "OTEL_SERVICE_NAME": "consortium-gateway",
    }
    pinned = args.cpu_affinity == "auto"

    eg_problem: str | None = "skipped (--no-express-gateway)" if args.no_express_gateway else None
    if eg_problem is None:
        eg_problem = install_express_gateway(args.express_gateway_dir)

    table = Table()
    summary: list[str] = []
    targets: list[tuple[str, bool, str]] = []
    with tempfile.TemporaryDirectory(prefix="cgw-bench-lua-") as tmp:
        lua = Path(tmp) / "partial.lua"
        lua.write_text(LUA)
        with nginx_members(specs, learners, sleep_s=slow_s) as members:
            checked = members.check_bodies()
            traced = {**production, "OTEL_EXPORTER_OTLP_ENDPOINT": members.otlp_endpoint}
            sites = members.sites
            ok_sites = [s for s in sites.values() if s.spec.kind == "ok"]
            linked = args.link == "all"
            print(
                f"fan-out bench: {len(specs)} nginx members ({checked} bodies checked byte-identical to the "
                f"sandbox), {args.credentials} credential(s) per member, learner linked at "
                f"{'every member' if linked else 'the home member only'}; gateway {args.workers} workers; "
                f"wrk 1 thread, {seconds:g} s runs, {rounds} rounds where a ratio is reported"
            )
            print(
                "production tracing: OTLP/HTTP batch exporter to a local sink, the gateway's production "
                f"sampler (parentbased_ratelimiting, 10 traces/s per worker), {production}"
            )
            print(HEADER)

            def calls_of(chosen: list[MemberSite]) -> float:
                home_linked = {HOME}
                return float(
                    sum(s.calls_per_lookup(linked or s.spec.member_id in home_linked) for s in chosen)
                )

            w1: dict[int, Run] = {}
            for n in sizes:
                chosen = ok_sites[:n]
                calls = calls_of(chosen)
                label = f"W1 N={n}"
                if n == 5:
                    w1[n], w7 = _w7(
                        args, learner_ids, chosen, traced, lua, seconds, rounds, table, calls, summary
                    )
                    targets.append(("W7 tracing costs <= 20% of lookups/s", w7[0] >= 0.8, f"{w7[0]:.2f}x"))
                    continue
                with lookup_gateway(
                    chosen, link=args.link, env=traced, workers=args.workers, learners=learner_ids
                ) as lookup:
                    warm_gateway(lookup, chosen, args.connections)
                    if n != 1:
                        runs_n: list[Run] = []
                        bare_n: list[Run] = []
                        aiohttp_n: list[Run] = []
                        with contextlib.ExitStack() as others:
                            bare = others.enter_context(
                                bare_fan_out(
                                    chosen,
                                    learner_ids,
                                    workers=args.workers,
                                    pin=pinned,
                                    scheduling=args.scheduling,
                                )
                            )
                            warm_bare(bare, learner_ids, args.connections)
                            other_client = None
                            if n == 20:  # where the member client matters most: 20 calls a lookup
                                other_client = others.enter_context(
                                    lookup_gateway(
                                        chosen,
                                        link=args.link,
                                        env={**traced, "GATEWAY_MEMBER_HTTP_CLIENT": "aiohttp"},
                                        workers=args.workers,
                                        learners=learner_ids,
                                    )
                                )
                                warm_gateway(other_client, chosen, args.connections)
                            for _ in range(2 if n <= 20 else 1):
                                runs_n.append(
                                    table.add(
                                        label,
                                        PRODUCTION,
                                        lookup.load(lua, seconds=seconds, connections=args.connections),
                                        calls,
                                    )
                                )
                                if other_client is not None:
                                    aiohttp_n.append(
                                        table.add(
                                            label,
                                            AIOHTTP,
                                            other_client.load(
                                                lua, seconds=seconds, connections=args.connections
                                            ),
                                            calls,
                                        )
                                    )
                                bare_n.append(
                                    table.add(
                                        label,
                                        BARE,
                                        bare_run(bare, learner_ids, lua, seconds, args.connections),
                                        n,
                                    )
                                )
                        w1[n] = median_run(runs_n)
                        if aiohttp_n:
                            by_client = ratio([r.rps for r in runs_n], [r.rps for r in aiohttp_n])
                            summary.append(
                                fmt_ratio(
                                    f"W1 N={n} lookups/s traced, pyreqwest (default) / aiohttp client",
                                    by_client,
                                )
                            )
                        summary.extend(floor_lines(n, runs_n, bare_n))
                        continue
                    w1[1] = _floors(
                        args, lookup, chosen[0], lua, seconds, rounds, table, calls, summary, eg_problem
                    )

            # --- faults: one consortium of 20 healthy and the faulty members, asked with members= ----------
            twenty = [s.spec.member_id for s in ok_sites[:20]]
            fault_sites = ok_sites[:20] + [s for s in sites.values() if s.spec.kind != "ok"]
            w3_members = [*twenty[:17], fault_id("refused"), fault_id("malformed"), fault_id("down")]
            hung_members = [*twenty[:19], fault_id("hung")]
            with lookup_gateway(
                fault_sites, link=args.link, env=traced, workers=args.workers, learners=learner_ids
            ) as lookup:
                warm_gateway(lookup, ok_sites[:20], args.connections, twenty)
                calls = calls_of(ok_sites[:20])
                up: list[Run] = []
                faulty: list[Run] = []
                for _ in range(rounds):
                    up.append(
                        table.add(
                            "W3 N=20",
                            "20 healthy (same gateway)",
                            lookup.load(lua, seconds=seconds, connections=args.connections, members=twenty),
                            calls,
                        )
                    )
                    faulty.append(
                        table.add(
                            "W3 N=20",
                            "17 healthy + refused, malformed, 503",
                            lookup.load(
                                lua, seconds=seconds, connections=args.connections, members=w3_members
                            ),
                        )
                    )
                outcome = one_lookup(lookup, w3_members)
                faulty_status = {m: s for m, s in outcome.statuses.items() if not m.startswith("m")}
                healthy_ok = sum(1 for m, s in outcome.statuses.items() if m.startswith("m") and s == "ok")
                wanted_items = sum(s.awarded for s in ok_sites[:17])
                correct = (
                    healthy_ok == 17
                    and all(s in ("error", "circuit_open") for s in faulty_status.values())
                    and outcome.partial
                    and outcome.items == wanted_items
                )
                w3 = ratio([r.rps for r in faulty], [r.rps for r in up])
                summary.append(fmt_ratio("W3 lookups/s faulty / all healthy", w3))
                summary.append(
                    f"W3 outcomes after the run: healthy ok {healthy_ok}/17, faulty {faulty_status}, "
                    f"items {outcome.items}/{wanted_items}, partial {outcome.partial}; "
                    f"every W3 answer partial: {all(r.partial == r.requests - r.non_2xx for r in faulty)}"
                )
                targets.append(
                    ("W3 >= 0.9x W1(N=20), correct outcomes", w3[0] >= 0.9 and correct, f"{w3[0]:.2f}x")
                )

                def r26_run(variant: str, members: list[str], member_calls: float | None = None) -> Run:
                    run = lookup.load(
                        lua,
                        seconds=seconds,
                        connections=args.r26_connections,
                        members=members,
                        deadline_ms=deadline_ms,
                    )
                    return table.add("R26 N=20", f"{variant}, c={args.r26_connections}", run, member_calls)

                # The first lookups with the member hung wait for the deadline until each worker's breaker
                # has counted its failures: that run is reported on its own, and the target is judged on
                # the alternated runs after it, with the breakers open (their probes still failing).
                opening = r26_run("19 healthy + 1 hung, breakers opening", hung_members)
                hung: list[Run] = []
                nominal: list[Run] = []
                for _ in range(rounds):
                    nominal.append(r26_run(f"20 healthy, T={deadline_ms} ms", twenty, calls))
                    hung.append(r26_run("19 healthy + 1 hung", hung_members))
                r26 = ratio([r.p99_ms for r in hung], [r.p99_ms for r in nominal])
                summary.append(
                    f"R26 while the breakers open (the first run with the member hung): "
                    f"p50 {opening.p50_ms:.0f} ms, p99 {opening.p99_ms:.0f} ms"
                )
                summary.append(fmt_ratio("R26 p99 one hung (breakers open) / all up", r26))
                hung_state = one_lookup(lookup, hung_members, deadline_ms).statuses[fault_id("hung")]
                summary.append(f"R26 the hung member's outcome after the run: {hung_state}")
                targets.append(("R26 p99 with 1 of 20 hung <= 2x all up", r26[0] <= 2.0, f"{r26[0]:.2f}x"))

            # --- W2: the deadline itself (a breaker that never opens, so every lookup waits for T) --------
            no_breaker = {**traced, "GATEWAY_MEMBER_BREAKER_FAILURES": "1000"}
            # Every W2 lookup takes T, so c connections make c / T lookups a second: 96 in a 3 s run at
            # T = 500 ms, c = 16, whose p99 is its second worst. At least 10 s: a p99 of 320.
            w2_seconds = max(seconds, 10.0)
            with lookup_gateway(
                fault_sites, link=args.link, env=no_breaker, workers=args.workers, learners=learner_ids
            ) as lookup:
                expect_healthy(lookup, ok_sites[:20], twenty)
                for n in (5, 20):
                    chosen_ids = [*twenty[: n - 1], fault_id("slow")]
                    run = table.add(
                        f"W2 N={n}",
                        f"1 slow ({slow_s:g} s), T={deadline_ms} ms, c={args.w2_connections}",
                        lookup.load(
                            lua,
                            seconds=w2_seconds,
                            connections=args.w2_connections,
                            members=chosen_ids,
                            deadline_ms=deadline_ms,
                        ),
                    )
                    outcome = one_lookup(lookup, chosen_ids, deadline_ms)
                    all_partial = run.partial == run.requests - run.non_2xx
                    summary.append(
                        f"W2 N={n}: p50 T+{run.p50_ms - deadline_ms:.1f} ms, "
                        f"p99 T+{run.p99_ms - deadline_ms:.1f} ms; "
                        f"every answer partial: {all_partial}; slow member's outcome: "
                        f"{outcome.statuses[fault_id('slow')]}"
                    )
                    targets.append(
                        (
                            f"W2 N={n}: p50 <= T+10 ms, p99 <= T+75 ms, partial flagged",
                            run.p50_ms <= deadline_ms + 10 and run.p99_ms <= deadline_ms + 75 and all_partial,
                            f"p50 T+{run.p50_ms - deadline_ms:.0f} ms, "
                            f"p99 T+{run.p99_ms - deadline_ms:.0f} ms",
                        )
                    )

    if 5 in w1:
        r5 = w1[5]
        targets.append(
            (
                "N=5: >= 1,200 lookups/s, no partial, p99 <= 100 ms (c=64, traced)",
                r5.rps >= 1200 and not r5.partial and r5.non_2xx == 0 and r5.p99_ms <= 100,
                f"{r5.rps:.0f}/s, partial {r5.partial}, non-2xx {r5.non_2xx}, p99 {r5.p99_ms:.0f} ms",
            )
        )
    if 20 in w1:
        r20 = w1[20]
        targets.append(
            (
                "N=20: >= 300 lookups/s",
                r20.rps >= 300 and not r20.partial and r20.non_2xx == 0,
                f"{r20.rps:.0f}/s, partial {r20.partial}, non-2xx {r20.non_2xx}",
            )
        )
    print()
    for line in summary:
        print(line)
    print()
    print("targets:")
    for name, met, figure in targets:
        print(f"  [{'met' if met else 'NOT MET'}] {name}: {figure}")
    print(f"\nwhole bench: {time.monotonic() - started:.0f} s")


def _floors(
    args: argparse.Namespace,
    lookup: Lookup,
    site: MemberSite,
    lua: Path,
    seconds: float,
    rounds: int,
    table: Table,
    calls: float,
    summary: list[str],
    eg_problem: str | None,
) -> Run:
    """W1 N=1: the gateway, an nginx proxy hop and express-gateway to the same member, alternated."""
    path = f"/persons/{site.person_ids[ESI]}/course-offering-associations?pageSize=100&pageNumber=1"
    with contextlib.ExitStack() as stack:
        proxy = stack.enter_context(nginx_proxy(site.port))
        eg: Proxy | None = None
        if eg_problem is None:
            try:
                eg = stack.enter_context(express_gateway(args.express_gateway_dir, site.port))
                if httpx.get(eg.base + path, timeout=5).status_code != 200:
                    raise RuntimeError("express-gateway does not proxy")
            except RuntimeError as exc:
                eg_problem, eg = str(exc), None
        if httpx.get(proxy.base + path, timeout=5).content != site.bodies[path.split("?")[0]]:
            raise RuntimeError("the nginx proxy does not return the member's body")
        for target in [proxy.base + path] + ([eg.base + path] if eg else []):
            run_wrk(target, seconds=1, connections=args.connections)
        gateway_runs: list[Run] = []
        proxy_runs: list[Run] = []
        eg_runs: list[Run] = []
        for _ in range(rounds):
            gateway_runs.append(
                table.add(
                    "W1 N=1",
                    PRODUCTION,
                    lookup.load(lua, seconds=seconds, connections=args.connections),
                    calls,
                )
            )
            proxy_runs.append(
                table.add(
                    "W1 N=1",
                    "nginx reverse proxy (1 member GET)",
                    run_wrk(
                        proxy.base + path,
                        seconds=seconds,
                        connections=args.connections,
                        cpu=proxy.cpu_seconds,
                    ),
                    1,
                )
            )
            if eg is not None:
                eg_runs.append(
                    table.add(
                        "W1 N=1",
                        "express-gateway proxy (1 member GET)",
                        run_wrk(
                            eg.base + path, seconds=seconds, connections=args.connections, cpu=eg.cpu_seconds
                        ),
                        1,
                    )
                )
    g = [r.rps for r in gateway_runs]
    summary.append(
        fmt_ratio(
            f"W1 N=1 gateway lookups / nginx proxied GETs ({calls:g} member GETs a lookup)",
            ratio(g, [r.rps for r in proxy_runs]),
        )
    )
    if eg_runs:
        summary.append(
            fmt_ratio(
                "W1 N=1 gateway lookups / express-gateway proxied GETs", ratio(g, [r.rps for r in eg_runs])
            )
        )
    else:
        summary.append(f"express-gateway: not measured ({eg_problem})")
    return median_run(gateway_runs)


def _w7(
    args: argparse.Namespace,
    learner_ids: list[str],
    chosen: list[MemberSite],
    traced: dict[str, str],
    lua: Path,
    seconds: float,
    rounds: int,
    table: Table,
    calls: float,
    summary: list[str],
) -> tuple[Run, tuple[float, float, float]]:
    """W1 N=5 with production tracing, without tracing, ratio-sampled and fully sampled, and traced with the
    aiohttp member client: five gateways, alternated."""
    full = {**traced, "OTEL_TRACES_SAMPLER": "parentbased_always_on"}
    by_ratio = {
        **traced,
        "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
        "OTEL_TRACES_SAMPLER_ARG": f"{args.sample_ratio:g}",
    }
    variants = {
        PRODUCTION: traced,
        "gateway, no tracing": {k: v for k, v in traced.items() if not k.startswith("OTEL_")},
        RATIO.format(args.sample_ratio): by_ratio,
        "gateway, 100% sampled": full,
        # The member client the gateway does not use by default, so each run shows what the default wins.
        AIOHTTP: {**traced, "GATEWAY_MEMBER_HTTP_CLIENT": "aiohttp"},
    }
    pinned = args.cpu_affinity == "auto"
    if pinned:  # what pinning the workers wins, in every run
        variants[UNPINNED] = {**traced, "GATEWAY_WORKER_CPU_AFFINITY": "off"}
    if args.scheduling == "batch":  # and what SCHED_BATCH wins
        variants[NORMAL_SCHEDULING] = {**traced, "GATEWAY_WORKER_SCHEDULING": "normal"}
    results: dict[str, list[Run]] = {name: [] for name in variants}
    floor: list[Run] = []
    with contextlib.ExitStack() as stack:
        gateways = {
            name: stack.enter_context(
                lookup_gateway(chosen, link=args.link, env=env, workers=args.workers, learners=learner_ids)
            )
            for name, env in variants.items()
        }
        bare = stack.enter_context(
            bare_fan_out(chosen, learner_ids, workers=args.workers, pin=pinned, scheduling=args.scheduling)
        )
        for lookup in gateways.values():
            warm_gateway(lookup, chosen, args.connections)
        warm_bare(bare, learner_ids, args.connections)
        names = list(gateways)
        for round_ in range(rounds):
            # each round starts with the next variant: none always runs first (after the floor's load)
            start = round_ % len(names)
            for name in names[start:] + names[:start]:
                lookup = gateways[name]
                results[name].append(
                    table.add(
                        "W1/W7 N=5",
                        name,
                        lookup.load(lua, seconds=seconds, connections=args.connections),
                        calls,
                    )
                )
            floor.append(
                table.add("W1/W7 N=5", BARE, bare_run(bare, learner_ids, lua, seconds, args.connections), 5)
            )
        hot = gateways[PRODUCTION]
        table.add(
            "W1 N=5",
            "one learner only (hot audit chain)",
            run_wrk(
                hot.url(),
                seconds=seconds,
                connections=args.connections,
                headers=hot.headers(),
                lua=lua,
                cpu=hot.gw.cpu_seconds,
            ),
            calls,
        )
    off = [r.rps for r in results["gateway, no tracing"]]
    production = [r.rps for r in results[PRODUCTION]]
    traced_ratio = ratio(production, off)
    summary.append(fmt_ratio("W7 lookups/s production tracing / no tracing", traced_ratio))
    summary.append(
        fmt_ratio(
            f"W7 lookups/s ratio-sampled ({args.sample_ratio:.0%}) / no tracing",
            ratio([r.rps for r in results[RATIO.format(args.sample_ratio)]], off),
        )
    )
    summary.append(
        fmt_ratio(
            "W7 lookups/s 100% sampled / no tracing",
            ratio([r.rps for r in results["gateway, 100% sampled"]], off),
        )
    )
    by_client = ratio(production, [r.rps for r in results[AIOHTTP]])
    summary.append(fmt_ratio("W1 N=5 lookups/s traced, pyreqwest (default) / aiohttp client", by_client))
    for variant, versus in (
        (UNPINNED, "workers pinned / unpinned"),
        (NORMAL_SCHEDULING, "SCHED_BATCH / normal"),
    ):
        if variant in results:
            for measure, field in (("lookups/s", "rps"), ("p99", "p99_ms")):
                mine, theirs = ([getattr(r, field) for r in results[name]] for name in (PRODUCTION, variant))
                summary.append(fmt_ratio(f"W1 N=5 {measure} traced, {versus}", ratio(mine, theirs)))
    summary.extend(floor_lines(5, results[PRODUCTION], floor))
    return median_run(results[PRODUCTION]), traced_ratio


# --- the floor of the stack itself (bench.bare_fanout) ----------------------------------------------

BARE = "bare fan-out floor (Litestar + pyreqwest)"
AIOHTTP = "gateway, traced, aiohttp client"
UNPINNED = "gateway, traced, workers unpinned"
NORMAL_SCHEDULING = "gateway, traced, normal scheduling"
PRODUCTION = "gateway, traced (production)"
RATIO = "gateway, traced, {:.0%} ratio sampler"
TARGETS = {5: 1200, 20: 300}  # lookups/s, the targets


def warm_gateway(
    lookup: Lookup, sites: list[MemberSite], connections: int, members: list[str] | None = None
) -> None:
    """Check that the gateway answers ``members`` (all of ``sites`` by default) healthy, then warm it up."""
    expect_healthy(lookup, sites, members)
    run_wrk(lookup.url(members), seconds=1, connections=connections, headers=lookup.headers())


def warm_bare(bare: BareFanOut, learners: list[str], connections: int) -> None:
    """Check that the floor app answers every member's items for a learner, then warm it up."""
    answer = httpx.get(bare.base + bare.path(learners[0]), timeout=30)
    if answer.status_code != 200 or not answer.json()["items"]:
        raise RuntimeError(f"bare fan-out: {answer.status_code} {answer.text[:300]}")
    run_wrk(bare.base + bare.path(learners[0]), seconds=1, connections=connections)


def bare_run(bare: BareFanOut, learners: list[str], lua: Path, seconds: float, connections: int) -> Run:
    """One wrk run against the floor app, cycling through the learners as the gateway's runs do."""
    paths = [bare.path(esi) for esi in learners]
    return run_wrk(
        bare.base + paths[0],
        seconds=seconds,
        connections=connections,
        lua=lua,
        paths=paths,
        cpu=bare.cpu_seconds,
    )


def floor_lines(n: int, gateway: list[Run], bare: list[Run]) -> list[str]:
    """The gateway against the floor of its stack, and where the issue's target stands against it."""
    lines = [
        fmt_ratio(
            f"W1 N={n} gateway lookups / bare fan-out floor",
            ratio([r.rps for r in gateway], [r.rps for r in bare]),
        )
    ]
    if n in TARGETS:
        median = statistics.median(r.rps for r in bare)
        p99 = statistics.median(r.p99_ms for r in bare)
        lines.append(
            f"W1 N={n} bare fan-out floor: median {median:.0f}/s, p99 {p99:.0f} ms; the target of "
            f"{TARGETS[n]:,}/s is {TARGETS[n] / median:.2f}x the floor"
        )
    return lines


if __name__ == "__main__":
    main()
