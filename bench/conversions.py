"""Conversions per second: 100,000 mixed requests in process, and through ``POST /v1/conversions``.

The mix, a quarter each: credits on the convention basis, credits on the hours basis, levels (national ->
national through EQF, and EQF -> national), and named grades, across the seven reference frameworks.

- in process: ``Converter`` calls (the engine alone), and ``convert_batch`` on decoded JSON items (what
  the route does after parsing the body);
- over HTTP: batches of 1,000 items to a real gateway (2 granian workers) with a bearer token, load from wrk.

    python -m bench.conversions [--items 100000] [--seconds 5]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import msgspec

from adapters.frameworks import Converter, reference_registry
from gateway.conversions.service import convert_batch

FRAMEWORKS = ["uk-fheq", "scqf", "ects", "us-semester", "us-quarter", "nzqf", "ie-nfq"]
GRADES = [
    {"value": "B+", "from": "us-semester", "to": "uk-fheq"},
    {"value": "A", "from": "us-quarter", "to": "nzqf"},
    {"value": "Merit", "from": "nzqf", "to": "us-semester"},
    {"value": "65", "from": "uk-fheq", "to": "us-semester"},
]
LEVELS = [
    {"code": "10", "from": "scqf", "to": "uk-fheq"},
    {"code": "6", "from": "uk-fheq", "to": "ie-nfq"},
    {"code": "7", "from": "nzqf", "to": "scqf"},
    {"code": "6", "from": "eqf", "to": "scqf"},
]


def workload(count: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    items: list[dict[str, Any]] = []
    for i in range(count):
        kind = i % 4
        if kind in (0, 1):
            source, target = rng.sample(FRAMEWORKS, 2)
            items.append(
                {
                    "kind": "credits",
                    "amount": rng.choice([5, 10, 15, 20, 30, 60]),
                    "from": source,
                    "to": target,
                    "basis": "convention" if kind == 0 else "hours",
                }
            )
        elif kind == 2:
            items.append({"kind": "level", **rng.choice(LEVELS)})
        else:
            items.append({"kind": "grade", **rng.choice(GRADES)})
    return items


def in_process(items: list[dict[str, Any]], rounds: int) -> tuple[list[float], list[float], int]:
    converter = Converter(reference_registry())
    convert_batch(converter, items[:1000])  # warm the plan caches, as a running gateway would be
    engine, batched = [], []
    failed = 0
    for _ in range(rounds):
        start = time.perf_counter()
        result = convert_batch(converter, items)
        batched.append(len(items) / (time.perf_counter() - start))
        failed = result.failed
        calls = [(i["amount"], i["from"], i["to"], i["basis"]) for i in items if i["kind"] == "credits"]
        start = time.perf_counter()
        for amount, source, target, basis in calls:
            converter.credits(amount, source, target, basis)
        engine.append(len(calls) / (time.perf_counter() - start))
    return engine, batched, failed


def over_http(items: list[dict[str, Any]], seconds: int) -> tuple[float, float, float, int, int]:
    from bench.harness import gateway, new_client, require_wrk, wrk
    from bench.tokens import _bodies

    require_wrk()
    client = new_client("ES256")
    batch = msgspec.json.encode({"items": items[:1000]})
    with gateway([client]) as gw:
        form = _bodies(client, gw.issuer, 1)[0]
        token = httpx.post(
            f"{gw.base}/oauth/token",
            content=form,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ).json()["access_token"]
        check = httpx.post(
            f"{gw.base}/v1/conversions",
            content=batch,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            timeout=30,
        )
        check.raise_for_status()
        failed = check.json()["failed"]
        with tempfile.TemporaryDirectory() as tmp:
            body = Path(tmp) / "batch.json"
            body.write_bytes(batch)
            script = Path(tmp) / "post.lua"
            script.write_text(
                'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                f'local f = io.open("{body}", "rb")\nwrk.body = f:read("*a")\nf:close()\n'
            )
            result = wrk(
                f"{gw.base}/v1/conversions",
                seconds=seconds,
                connections=8,
                script=script,
                headers={"Authorization": f"Bearer {token}"},
                gateway_process=gw,
            )
    return result.rps * 1000, result.p50_ms, result.p99_ms, result.non_2xx, failed


def main() -> None:
    parser = argparse.ArgumentParser(description="conversion throughput")
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--no-http", action="store_true")
    args = parser.parse_args()
    items = workload(args.items)

    engine, batched, failed = in_process(items, args.rounds)
    print(f"in process, {args.items} mixed items x {args.rounds} rounds (one core)")
    print(f"  Converter.credits only:          median {statistics.median(engine):10,.0f} conversions/s")
    print(
        f"  convert_batch (decode + convert): median {statistics.median(batched):10,.0f} conversions/s"
        f"  ({failed} items refused)"
    )
    if args.no_http:
        return
    rate, p50, p99, non2xx, http_failed = over_http(items, args.seconds)
    print("over HTTP, POST /v1/conversions with 1,000 items per request, 8 connections, 2 workers")
    print(
        f"  {rate:10,.0f} conversions/s  p50 {p50:.1f} ms  p99 {p99:.1f} ms per batch  non-2xx {non2xx}"
        f"  items refused per batch {http_failed}"
    )
    print(f"  ratio HTTP / in-process batch: {rate / statistics.median(batched):.2f}")


if __name__ == "__main__":
    main()
