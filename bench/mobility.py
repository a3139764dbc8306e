"""W6 (shared/reference/performance.md): workflow writes through HTTP vs the raw asyncpg loop of the same
writes, measured in the same run on the gateway's embedded PostgreSQL.

A write is a mobility request creation (request + items + audit entry + event + idempotency record in one
statement) or an action on it (review, decision: conditional update + decisions + audit + event +
idempotency record in one statement; the action reads the request first). Over HTTP, wrk drives 2 gateway
workers with 16 connections, a fresh Idempotency-Key per request; the floor is the same statements from
16 asyncpg connections in this process, with the documents built once beforehand. The gateway batches
concurrent creations (``GroupedCreations``), so a second floor runs the same batching without HTTP: 16
writers over two batchers, as over two worker processes. Creations alternate HTTP, floor and batched floor
(ABC, 3 rounds by default) after an unmeasured warm-up of each; reviews and decisions are measured once each.

    python -m bench.mobility [--seconds 4] [--pairs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
import httpx
import msgspec
from opentelemetry import trace

from bench.harness import Gateway, WrkResult, gateway, new_client, require_wrk, wrk
from bench.tokens import _bodies
from gateway.audit import AuditEntry
from gateway.mobility import store
from gateway.mobility.creations import GroupedCreations

HOST, HOME = "bench.example", "home.example"  # the bench client belongs to the host (it creates and decides)
CONNECTIONS = 16
ITEMS = '[{"position": 0, "credential_id": "home.example:mc-1", "evaluated": "recognised"}]'

RECORD = {
    "id": "home.example:mc-1",
    "learner": {"identifiers": [{"scheme": "local", "value": "s1", "member": HOME}]},
    "credential": {
        "id": "home.example:DATA101",
        "title": "Data literacy",
        "awarding_body": {"name": "Home", "country": "GB", "member": HOME},
        "learning_outcomes": ["Explain sampling bias"],
        "workload": {"amount": 20, "unit": "uk-credit", "framework": "uk-fheq"},
        "assessment": ["project"],
        "participation": ["online"],
        "quality_assurance": {"type": "internal", "review_due": "2030-06-30"},
        "level": {"framework": "uk-fheq", "code": "6"},
    },
    "issuer": HOME,
    "issued_on": "2026-07-01",
    "provenance": {
        "member": HOME,
        "connector": "ooapi",
        "source_id": "r1",
        "fetched_at": "2026-11-01T00:00:00Z",
    },
}
CREATE = {
    "learner": "urn:schac:personalUniqueCode:int:esi:home.example:s1",
    "home_member": HOME,
    "host_member": HOST,
    "items": [{"credential_id": RECORD["id"], "record": RECORD}],
    "target": {"programme": "BSc"},
}
DECIDE = {
    "registrar": "reg-1",
    "outcome": "approved",
    "items": [
        {
            "credential_id": RECORD["id"],
            "decision": "granted",
            "credits": {"amount": 20, "unit": "uk-credit", "framework": "uk-fheq"},
        }
    ],
}

# One Idempotency-Key per request: a per-thread prefix and a counter (wrk runs one Lua state per thread).
POST_LUA = """
local prefix = "{prefix}"
local counter = 0
local ids = {{}}
local next_id = 0
local f = io.open("{body}", "rb"); wrk.body = f:read("*a"); f:close()
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
{ids_block}
function request()
  counter = counter + 1
  local headers = {{}}
  for k, v in pairs(wrk.headers) do headers[k] = v end
  headers["Idempotency-Key"] = prefix .. "-" .. counter
  local path = wrk.path
  if #ids > 0 then
    next_id = next_id + 1
    if next_id > #ids then next_id = #ids end
    path = "/v1/mobility-requests/" .. ids[next_id] .. "/{segment}"
    headers["If-Match"] = '"v{version}"'
  end
  return wrk.format(nil, path, headers, nil)
end
"""


def _script(
    tmp: Path, name: str, body: object, ids: list[str] | None = None, segment: str = "", version: int = 0
) -> Path:
    payload = tmp / f"{name}.json"
    payload.write_bytes(msgspec.json.encode(body))
    ids_block = ""
    if ids:
        ids_file = tmp / f"{name}.ids"
        ids_file.write_text("\n".join(ids) + "\n")
        ids_block = f'for line in io.lines("{ids_file}") do ids[#ids + 1] = line end'
    script = tmp / f"{name}.lua"
    script.write_text(
        POST_LUA.format(
            prefix=f"{name}-{uuid.uuid4().hex[:8]}",
            body=payload,
            ids_block=ids_block,
            segment=segment,
            version=version,
        )
    )
    return script


@dataclasses.dataclass
class Floor:
    rps: float
    p50_ms: float
    p99_ms: float
    count: int


def _audit(rid: uuid.UUID, action: str) -> AuditEntry:
    return AuditEntry(
        stream=f"mobility:{rid}",
        action=f"mobility.{action}",
        institution=HOST,
        client_id="bench",
        resource=f"mobility-request/{rid}",
        outcome=action,
        purpose="credit_transfer",
        details={"version": 1},
    )


async def _floor_creations(
    dsn: str, seconds: float, document: str, revision: int
) -> tuple[Floor, list[uuid.UUID]]:
    """The creation statement from 16 connections, documents pre-built: the driver and database floor."""
    created: list[uuid.UUID] = []
    latencies: list[float] = []
    deadline = time.monotonic() + seconds

    async def worker(conn: asyncpg.Connection) -> None:
        while time.monotonic() < deadline:
            write = _creation(document, revision)
            start = time.perf_counter()
            result = await store.insert_request(conn, write)
            latencies.append(time.perf_counter() - start)
            assert result.written
            created.append(write.id)

    return await _run_floor(dsn, worker, latencies, seconds), created


async def _floor_grouped(dsn: str, seconds: float, document: str, revision: int) -> Floor:
    """The same creations batched as the gateway batches them: one ``GroupedCreations`` per worker process
    (2), 8 of the 16 connections' worth of concurrent writers each, no HTTP."""
    latencies: list[float] = []
    deadline = time.monotonic() + seconds
    pools = [await asyncpg.create_pool(dsn, min_size=2, max_size=4) for _ in range(2)]
    tracer = trace.get_tracer(__name__)
    groups = [GroupedCreations(pool, acquire_timeout=5.0, tracer=tracer) for pool in pools]

    async def writer(group: GroupedCreations) -> None:
        while time.monotonic() < deadline:
            start = time.perf_counter()
            result = await group.write(_creation(document, revision))
            latencies.append(time.perf_counter() - start)
            assert result.written

    try:
        start = time.monotonic()
        await asyncio.gather(*(writer(groups[i % 2]) for i in range(CONNECTIONS)))
        elapsed = time.monotonic() - start
    finally:
        for pool in pools:
            await pool.close()
    return _floor_of(latencies, elapsed)


def _creation(document: str, revision: int) -> store.CreateWrite:
    rid = uuid.uuid4()
    return store.CreateWrite(
        id=rid,
        learner_ref="urn:schac:personaluniquecode:int:esi:home.example:s1",
        home_member=HOME,
        host_member=HOST,
        purpose="credit_transfer",
        document=document,
        created_at=_now(),
        due_at=None,
        client_id="bench-floor",
        items_json=ITEMS,
        key=str(rid),
        fingerprint=b"\0" * 32,
        response_headers_json="{}",
        event=store.Event(id=uuid.uuid4(), type="mobility_request.submitted", payload='{"id": "x"}'),
        revision=revision,
        audit=_audit(rid, "submit"),
    )


async def _floor_actions(
    dsn: str, seconds: float, ids: list[uuid.UUID], document: str, action: str, version: int, state: str
) -> tuple[Floor, list[uuid.UUID]]:
    latencies: list[float] = []
    done: list[uuid.UUID] = []
    queue = list(ids)
    deadline = time.monotonic() + seconds
    response = store.StoredResponse(status=200, headers_json="{}", body=document)
    decisions = '[{"position": 0, "decision": "granted", "credits": 20, "decided_by": "reg-1"}]'

    async def worker(conn: asyncpg.Connection) -> None:
        while queue and time.monotonic() < deadline:
            rid = queue.pop()
            # The action reads the request first (as the service does), then writes in one statement.
            start = time.perf_counter()
            await store.load_for_action(conn, rid, HOST, "bench-floor", str(uuid.uuid4()))
            write = store.ActionWrite(
                id=rid,
                expected_version=version,
                allowed_from=("submitted",) if action == "review" else ("under_review",),
                state=state,
                document=document,
                now=_now(),
                assigned_to="reg-1",
                due_at=None,
                outcome="approved" if action == "decide" else None,
                round=1,
                appeal_until=None,
                decisions_json=decisions if action == "decide" else "[]",
                institution=HOST,
                client_id="bench-floor",
                key=str(uuid.uuid4()),
                fingerprint=b"\0" * 32,
                response=response,
                event=store.Event(id=uuid.uuid4(), type=f"mobility_request.{action}", payload='{"id": "x"}'),
                audit=_audit(rid, action),
            )
            result = await store.apply_action(conn, write)
            latencies.append(time.perf_counter() - start)
            assert result.written
            done.append(rid)

    return await _run_floor(dsn, worker, latencies, seconds), done


async def _run_floor(dsn: str, worker, latencies: list[float], seconds: float) -> Floor:  # type: ignore[no-untyped-def]
    pool = await asyncpg.create_pool(dsn, min_size=CONNECTIONS, max_size=CONNECTIONS)
    try:
        start = time.monotonic()

        async def one() -> None:
            async with pool.acquire() as conn:
                await worker(conn)

        await asyncio.gather(*(one() for _ in range(CONNECTIONS)))
        elapsed = time.monotonic() - start
    finally:
        await pool.close()
    return _floor_of(latencies, elapsed)


def _floor_of(latencies: list[float], elapsed: float) -> Floor:
    latencies.sort()
    return Floor(
        rps=len(latencies) / elapsed,
        p50_ms=statistics.median(latencies) * 1000,
        p99_ms=latencies[int(len(latencies) * 0.99) - 1] * 1000,
        count=len(latencies),
    )


def _now():  # type: ignore[no-untyped-def]
    import datetime as dt

    return dt.datetime.now(dt.UTC)


async def _ids(dsn: str, state: str, version: int, client: str) -> list[str]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT id::text FROM mobility_requests"
            " WHERE state = $1 AND version = $2 AND created_by = $3 ORDER BY id",
            state,
            version,
            client,
        )
        return [r["id"] for r in rows]
    finally:
        await conn.close()


async def _revision(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        revision: int = await conn.fetchval("SELECT revision FROM recognition_revision")
        return revision
    finally:
        await conn.close()


def _http(result: WrkResult) -> str:
    cpu = f"{result.cpu_us_per_request:6.0f} us CPU/req" if result.cpu_us_per_request else ""
    return (
        f"{result.rps:8.0f}/s  p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:6.2f} ms  "
        f"non-2xx {result.non_2xx}  errors {result.socket_errors}  {cpu}"
    )


def _floor(result: Floor) -> str:
    return f"{result.rps:8.0f}/s  p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:6.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description="W6: mobility workflow writes, HTTP vs raw asyncpg")
    parser.add_argument("--seconds", type=int, default=4)
    parser.add_argument("--pairs", type=int, default=3)
    args = parser.parse_args()
    require_wrk()
    client = new_client("ES256")
    members = {HOST: "uk-fheq", HOME: "uk-fheq"}
    with (
        gateway([client], members=members, env={"GATEWAY_DB_POOL_MAX": "16"}) as gw,
        tempfile.TemporaryDirectory() as tmp,
    ):
        token = httpx.post(
            f"{gw.base}/oauth/token",
            content=_bodies(client, gw.issuer, 1)[0],
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        check = httpx.post(
            f"{gw.base}/v1/mobility-requests",
            json=CREATE,
            headers={**auth, "Idempotency-Key": "check"},
            timeout=10,
        )
        check.raise_for_status()
        tmp_dir = Path(tmp)

        def creations() -> Path:
            # A script of its own per run: its keys restart at 1, so a reused script would replay the
            # previous run's keys (stored answers) instead of creating.
            return _script(tmp_dir, f"create-{uuid.uuid4().hex[:8]}", CREATE)

        document = check.text
        revision = asyncio.run(_revision(gw.dsn))
        http_runs: list[WrkResult] = []
        floor_runs: list[Floor] = []
        grouped_runs: list[Floor] = []
        floor_ids: list[uuid.UUID] = []
        # Unmeasured first, as long as a measured run: both worker processes' pools and statement caches,
        # and the tables and indexes past their first pages. A shorter warm-up left the first measured
        # pair the slowest in every run.
        warm = _wrk(gw, "/v1/mobility-requests", creations(), auth, args.seconds)
        asyncio.run(_floor_creations(gw.dsn, args.seconds, document, revision))
        asyncio.run(_floor_grouped(gw.dsn, args.seconds, document, revision))
        for _ in range(args.pairs):
            http_runs.append(_wrk(gw, "/v1/mobility-requests", creations(), auth, args.seconds))
            floor, created = asyncio.run(_floor_creations(gw.dsn, args.seconds, document, revision))
            floor_runs.append(floor)
            grouped_runs.append(asyncio.run(_floor_grouped(gw.dsn, args.seconds, document, revision)))
            floor_ids += created

        # Actions over HTTP on the requests the HTTP runs created: review (v1 -> v2), then decide (v2 -> v3).
        submitted = asyncio.run(_ids(gw.dsn, "submitted", 1, client.client_id))
        # Every creation answered was a creation, not a replay: one submitted request per request wrk
        # counted (plus the check's), give or take the requests still in flight when a run stopped.
        sent = warm.requests + sum(h.requests for h in http_runs) + 1
        if len(submitted) < 0.99 * sent:
            raise SystemExit(f"only {len(submitted)} requests created for {sent} creation requests answered")
        review_script = _script(tmp_dir, "review", {"registrar": "reg-1"}, submitted, "review", 1)
        review = _wrk(gw, "/v1/mobility-requests", review_script, auth, args.seconds)
        reviewed = asyncio.run(_ids(gw.dsn, "under_review", 2, client.client_id))
        # Enough reviewed requests for the whole decision run: the review run is repeated, unmeasured, on
        # requests it did not reach. A decision run that runs out of ids measures refusals, not decisions.
        spare = sorted(set(submitted) - set(reviewed))
        if spare:
            more = _script(tmp_dir, "review-more", {"registrar": "reg-1"}, spare, "review", 1)
            _wrk(gw, "/v1/mobility-requests", more, auth, args.seconds)
            reviewed = asyncio.run(_ids(gw.dsn, "under_review", 2, client.client_id))
        decide_script = _script(tmp_dir, "decide", DECIDE, reviewed, "decision", 2)
        decide = _wrk(gw, "/v1/mobility-requests", decide_script, auth, args.seconds)
        floor_review, floor_reviewed = asyncio.run(
            _floor_actions(gw.dsn, args.seconds, floor_ids, document, "review", 1, "under_review")
        )
        floor_decide, _ = asyncio.run(
            _floor_actions(gw.dsn, args.seconds, floor_reviewed, document, "decide", 2, "decided")
        )

    ratios = [h.rps / f.rps for h, f in zip(http_runs, floor_runs, strict=True)]
    print(f"W6 mobility workflow writes: 2 gateway workers, {CONNECTIONS} connections, embedded PostgreSQL")
    for index, (h, f, g) in enumerate(zip(http_runs, floor_runs, grouped_runs, strict=True)):
        print(f"  creations  HTTP          (round {index + 1}) {_http(h)}")
        print(f"  creations  floor         (round {index + 1}) {_floor(f)}")
        print(f"  creations  floor batched (round {index + 1}) {_floor(g)}")
    rps = statistics.median(h.rps for h in http_runs)
    p99 = statistics.median(h.p99_ms for h in http_runs)
    verdict = "met" if rps >= 1000 and p99 <= 50 else "NOT met"
    batched = [h.rps / g.rps for h, g in zip(http_runs, grouped_runs, strict=True)]
    print(
        f"  creations HTTP / batched floor: median {statistics.median(batched):.2f}"
        f" (range {min(batched):.2f}-{max(batched):.2f})"
    )
    print(
        f"  creations HTTP / floor: median {statistics.median(ratios):.2f}"
        f" (range {min(ratios):.2f}-{max(ratios):.2f});"
        f" median HTTP {rps:.0f}/s, median p99 {p99:.1f} ms,"
        f" worst p99 {max(h.p99_ms for h in http_runs):.1f} ms"
        f" (target >= 1000/s with p99 <= 50 ms: {verdict})"
    )
    print(f"  requests created: {len(submitted)} for {sent} creation requests answered (no replays)")
    print(f"  reviews    HTTP  {_http(review)}   (ids available: {len(submitted)})")
    print(f"  reviews    floor {_floor(floor_review)}   ratio {review.rps / floor_review.rps:.2f}")
    print(f"  decisions  HTTP  {_http(decide)}   (ids available: {len(reviewed)})")
    print(f"  decisions  floor {_floor(floor_decide)}   ratio {decide.rps / floor_decide.rps:.2f}")
    print("  (actions: a read then one write statement; a non-2xx count above 0 means the ids ran out)")


def _wrk(gw: Gateway, path: str, script: Path, auth: dict[str, str], seconds: int) -> WrkResult:
    return wrk(
        f"{gw.base}{path}",
        seconds=seconds,
        connections=CONNECTIONS,
        script=script,
        headers=auth,
        gateway_process=gw,
    )


if __name__ == "__main__":
    main()
