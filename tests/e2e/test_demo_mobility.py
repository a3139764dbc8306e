"""The demo's mobility story as the README tells it: seeded requests in several states, one request walked
from submission to decision with the demo's request and decision files, and the signed webhooks arriving
at the members' receivers (printed by the demo)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
from e2e.test_demo import REPO, Demo

pytestmark = pytest.mark.e2e

DEMO = REPO / "deploy" / "demo"


def test_walk_a_request_and_see_the_webhooks(tmp_path: Path) -> None:
    demo = Demo(tmp_path / "var")
    try:
        demo.wait_ready()
        home = {"Authorization": f"Bearer {demo.token('uni-rheinland.de')}"}
        host = {"Authorization": f"Bearer {demo.token('uni-avalon.ac.uk')}"}
        queue = httpx.get(f"{demo.base}/v1/mobility-requests", headers=host, timeout=5).json()["items"]
        assert sorted(r["state"] for r in queue) == ["decided", "info_requested", "submitted", "under_review"]

        created = httpx.post(
            f"{demo.base}/v1/mobility-requests",
            content=(DEMO / "mobility-request.json").read_bytes(),
            headers={**home, "Idempotency-Key": "e2e-1", "Content-Type": "application/json"},
            timeout=10,
        )
        assert created.status_code == 201, created.text
        rid = created.json()["id"]
        reviewed = httpx.post(
            f"{demo.base}/v1/mobility-requests/{rid}/review",
            json={"registrar": "av-registrar-1"},
            headers={**host, "If-Match": '"v1"'},
            timeout=5,
        )
        assert reviewed.status_code == 200, reviewed.text
        decided = httpx.post(
            f"{demo.base}/v1/mobility-requests/{rid}/decision",
            content=(DEMO / "mobility-decision.json").read_bytes(),
            headers={
                **host,
                "If-Match": '"v2"',
                "Idempotency-Key": "e2e-2",
                "Content-Type": "application/json",
            },
            timeout=5,
        )
        assert decided.status_code == 200, decided.text
        assert decided.json()["outcome"] == "approved"
        events = httpx.get(f"{demo.base}/v1/events", headers=home, timeout=5).json()["items"]
        assert [e["type"] for e in events if e["request_id"] == rid] == [
            "mobility_request.submitted",
            "mobility_request.review_started",
            "mobility_request.decided",
        ]
        time.sleep(2)  # the relay polls every half second
    finally:
        assert demo.stop() == 0
    output = demo.proc.stdout.read() if demo.proc.stdout else ""
    for member in ("uni-rheinland.de", "uni-avalon.ac.uk"):
        assert f"webhook -> {member}: mobility_request.decided request {rid} v3" in output, output[-3000:]
    assert json.loads((DEMO / "mobility-request.json").read_text())["host_member"] == "uni-avalon.ac.uk"
