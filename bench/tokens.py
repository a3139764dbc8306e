"""Token issuance and access-token validation through HTTP (workloads W4 and W5 of performance.md).

- W4: ``POST /oauth/token`` with private_key_jwt, a fresh assertion and ``jti`` for every request (the
  replay store in PostgreSQL is on), for Ed25519, ES256 and RS256 client keys. Assertions are signed
  before the run, so the load generator's signing cost is not in the figure.
- W5: a protected trivial route (``GET /v1/whoami``) with the validation cache warm (one token reused) and
  cold (a gateway with ``GATEWAY_TOKEN_CACHE_SIZE=0``, so every request verifies the signature), each as a
  ratio to the same app's unauthenticated trivial route (``GET /healthz``), alternated in one run.

Production mode: 2 granian workers, wrk on the same 2-core machine.

    python -m bench.tokens [--seconds 4] [--rounds 3]

Issuance runs the three key types in turn, ``--rounds`` times, after an unmeasured warm-up; the median
of each is compared with the target.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
from joserfc import jwt

from bench.harness import BenchClient, Gateway, WrkResult, gateway, new_client, require_wrk, wrk

# Issue 4: with 2 workers on the 2-core machine.
ISSUANCE_TARGET = 1500
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

# Each wrk thread takes its own share of the bodies, so no assertion is sent twice (a replay would be 401).
LUA = """
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end
function init(args)
  bodies = {}
  local i = 0
  for line in io.lines(args[1]) do
    if i % tonumber(args[2]) == id then table.insert(bodies, line) end
    i = i + 1
  end
  idx = 0
end
function request()
  idx = idx + 1
  if idx > #bodies then idx = 1 end
  return wrk.format("POST", nil, {["Content-Type"] = "application/x-www-form-urlencoded"}, bodies[idx])
end
"""


def _bodies(client: BenchClient, issuer: str, count: int) -> list[str]:
    now = int(time.time())
    header = {"alg": client.alg, "kid": client.key.kid, "typ": "client-authentication+jwt"}
    out = []
    for _ in range(count):
        claims = {
            "iss": client.client_id,
            "sub": client.client_id,
            "aud": issuer,
            "iat": now,
            "exp": now + 240,
            "jti": secrets.token_urlsafe(16),
        }
        assertion = jwt.encode(header, claims, client.key, algorithms=[client.alg])
        out.append(
            urlencode(
                {
                    "grant_type": "client_credentials",
                    "client_assertion_type": ASSERTION_TYPE,
                    "client_assertion": assertion,
                }
            )
        )
    return out


def _wrk_lua(url: str, bodies: list[str], seconds: int, gw: Gateway) -> WrkResult:
    with tempfile.TemporaryDirectory() as tmp:
        body_file = Path(tmp) / "bodies.txt"
        body_file.write_text("\n".join(bodies) + "\n")
        script = Path(tmp) / "bodies.lua"
        script.write_text(LUA)
        # wrk passes arguments after "--" to init(args).
        return wrk(
            url,
            script_args=[str(body_file), "1"],
            seconds=seconds,
            connections=32,
            threads=1,
            script=script,
            gateway_process=gw,
        )


def _token(gw: Gateway, client: BenchClient) -> str:
    body = _bodies(client, gw.issuer, 1)[0]
    response = httpx.post(
        f"{gw.base}/oauth/token", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


def _row(name: str, r: WrkResult) -> str:
    cpu = f"{r.cpu_us_per_request:7.0f}" if r.cpu_us_per_request is not None else "      -"
    return f"{name:44} {r.rps:9.0f} {r.p50_ms:8.2f} {r.p99_ms:8.2f} {cpu} {r.non_2xx:7d} {r.socket_errors:6d}"


HEADER = f"{'workload':44} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'cpu us':>7} {'non2xx':>7} {'errors':>6}"


def main() -> None:
    parser = argparse.ArgumentParser(description="token issuance and validation benchmark")
    parser.add_argument("--seconds", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--expected-rps", type=int, default=4000, help="sizes the pre-signed assertion pool")
    args = parser.parse_args()
    require_wrk()
    clients = [new_client(alg) for alg in ("Ed25519", "ES256", "RS256")]

    print("W4: token issuance, private_key_jwt, fresh jti each (2 workers, loopback)")
    print(HEADER)
    issuance: dict[str, list[float]] = {}
    with gateway(clients) as gw:
        # Unmeasured first: the pool's connections, the key cache and the jti table's first pages.
        _wrk_lua(f"{gw.base}/oauth/token", _bodies(clients[0], gw.issuer, args.expected_rps), 1, gw)
        for _ in range(args.rounds):
            for client in clients:
                count = args.expected_rps * args.seconds
                bodies = _bodies(client, gw.issuer, count)
                result = _wrk_lua(f"{gw.base}/oauth/token", bodies, args.seconds, gw)
                exhausted = " (pool exhausted: raise --expected-rps)" if result.requests > count else ""
                print(_row(f"issuance, {client.alg} client key", result) + exhausted)
                issuance.setdefault(client.alg, []).append(result.rps)
    for alg, values in issuance.items():
        median = statistics.median(values)
        verdict = "met" if median >= ISSUANCE_TARGET else "NOT met"
        print(f"issuance {alg}: median {median:.0f}/s; target >= {ISSUANCE_TARGET}/s: {verdict}")

    print()
    print("W5: protected trivial route vs the same app's unauthenticated trivial route (ABAB rounds)")
    print(HEADER)
    with gateway(clients) as warm_gw, gateway(clients, env={"GATEWAY_TOKEN_CACHE_SIZE": "0"}) as cold_gw:
        warm_auth = {"Authorization": f"Bearer {_token(warm_gw, clients[1])}"}
        cold_auth = {"Authorization": f"Bearer {_token(cold_gw, clients[1])}"}
        runs: dict[str, list[WrkResult]] = {"healthz": [], "warm": [], "cold": []}
        for _ in range(args.rounds):
            runs["healthz"].append(
                wrk(f"{warm_gw.base}/healthz", seconds=args.seconds, gateway_process=warm_gw)
            )
            runs["warm"].append(
                wrk(
                    f"{warm_gw.base}/v1/whoami",
                    seconds=args.seconds,
                    headers=warm_auth,
                    gateway_process=warm_gw,
                )
            )
            runs["cold"].append(
                wrk(
                    f"{cold_gw.base}/v1/whoami",
                    seconds=args.seconds,
                    headers=cold_auth,
                    gateway_process=cold_gw,
                )
            )
        for name, label in (
            ("healthz", "GET /healthz (no auth)"),
            ("warm", "GET /v1/whoami, cache warm"),
            ("cold", "GET /v1/whoami, cache off (verify each)"),
        ):
            for r in runs[name]:
                print(_row(label, r))
        for name in ("warm", "cold"):
            ratios = [a.rps / b.rps for a, b in zip(runs[name], runs["healthz"], strict=True)]
            target = " (target >= 0.80: " + ("met)" if statistics.median(ratios) >= 0.8 else "NOT met)")
            print(
                f"ratio {name} / unauthenticated: median {statistics.median(ratios):.2f} "
                f"(range {min(ratios):.2f}-{max(ratios):.2f})" + (target if name == "warm" else "")
            )


if __name__ == "__main__":
    main()
