"""Recognition through ``POST /v1/recognition/evaluate``: credential evaluations per second over HTTP, with
the in-process engine on the same credentials measured in the same run.

The gateway (2 workers) holds the same 50 agreement versions and equivalences as ``bench.recognition``;
each request carries 1,000 credentials for the caller's institution; wrk is the load.

    python -m bench.recognition_http [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx
import msgspec

from bench.harness import gateway, new_client, require_wrk, wrk
from bench.recognition import EVALUATION_DATE, MEMBERS, build_engine, build_workload
from bench.tokens import _bodies
from gateway.recognition import store
from gateway.recognition.models import EvaluationRequest, RecognisingMember

RECOGNISER = next(iter(MEMBERS))
BATCH = 1000


async def _seed(dsn: str, agreements: list, equivalences: list) -> None:  # type: ignore[type-arg]
    conn = await asyncpg.connect(dsn)
    try:
        for agreement in agreements:
            await store.insert_agreement(conn, agreement, "bench")
        for equivalence in equivalences:
            await store.insert_equivalence(conn, equivalence, "bench")
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description="recognition over HTTP")
    parser.add_argument("--seconds", type=int, default=5)
    args = parser.parse_args()
    require_wrk()
    agreements, equivalences, credentials = build_workload()
    batch = [c for c in credentials if c.issuer != RECOGNISER][:BATCH]

    engine = build_engine(agreements, equivalences)
    request = EvaluationRequest(
        credentials=tuple(batch),
        recogniser=RecognisingMember(id=RECOGNISER, framework=MEMBERS[RECOGNISER]),
        evaluation_date=EVALUATION_DATE,
    )
    engine.evaluate(request)
    start = time.process_time()
    rounds = 5
    for _ in range(rounds):
        msgspec.json.encode(engine.evaluate(request))
    in_process = rounds * len(batch) / (time.process_time() - start)

    client = new_client("ES256")
    body = msgspec.json.encode({"credentials": batch, "evaluation_date": EVALUATION_DATE})
    with gateway([client], members=MEMBERS) as gw:
        asyncio.run(_seed(gw.dsn, agreements, equivalences))
        form = _bodies(client, gw.issuer, 1)[0]
        token = httpx.post(
            f"{gw.base}/oauth/token",
            content=form,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        check = httpx.post(
            f"{gw.base}/v1/recognition/evaluate",
            content=body,
            headers={**auth, "Content-Type": "application/json"},
            timeout=60,
        )
        check.raise_for_status()
        statuses: dict[str, int] = {}
        for outcome in check.json()["outcomes"]:
            statuses[outcome["status"]] = statuses.get(outcome["status"], 0) + 1
        with tempfile.TemporaryDirectory() as tmp:
            payload = Path(tmp) / "body.json"
            payload.write_bytes(body)
            script = Path(tmp) / "post.lua"
            script.write_text(
                'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                f'local f = io.open("{payload}", "rb")\nwrk.body = f:read("*a")\nf:close()\n'
            )
            result = wrk(
                f"{gw.base}/v1/recognition/evaluate",
                seconds=args.seconds,
                connections=4,
                script=script,
                headers=auth,
                gateway_process=gw,
            )
    rate = result.rps * BATCH
    print(f"recognition, {BATCH} credentials per request, {len(agreements)} agreement versions")
    print(f"  outcomes of one request: {statuses}")
    print(f"  in process (one core, engine + JSON encoding): {in_process:10,.0f} credentials/s")
    print(
        f"  over HTTP (2 workers, 4 connections):          {rate:10,.0f} credentials/s"
        f"  p50 {result.p50_ms:.0f} ms  p99 {result.p99_ms:.0f} ms per request  non-2xx {result.non_2xx}"
    )
    print(f"  ratio HTTP / in process: {rate / in_process:.2f}")


if __name__ == "__main__":
    main()
