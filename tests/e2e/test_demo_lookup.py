"""The demo's federated lookup, as the README shows it: five member registries, a learner known at three
of them, a consent for one member; and a registry at capacity answered with 503 and Retry-After."""

from __future__ import annotations

import contextlib
import re
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from e2e.test_demo import Demo

ESI = "urn:schac:personalUniqueCode:int:esi:uni-avalon.ac.uk:20260001"
LOOKUP = f"/v1/learners/{ESI}/credentials?purpose=credit-transfer"
LEARNER_AT = {"uni-avalon.ac.uk", "uni-caledonia.ac.uk", "uni-rheinland.de"}


def started(data_dir: Path, env: dict[str, str] | None = None) -> Iterator[Demo]:
    demo = Demo(data_dir, env)
    try:
        demo.wait_ready()
        yield demo
    finally:
        # SIGTERM first: the demo then stops its embedded PostgreSQL, which a SIGKILL of the process group
        # would leave running (it runs in a session of its own).
        with contextlib.suppress(subprocess.TimeoutExpired):
            demo.stop()


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    yield from started(tmp_path / "var")


def test_the_demo_learner_is_found_at_three_members(demo: Demo) -> None:
    token = demo.token("lakeside-college.edu")
    response = httpx.get(demo.base + LOOKUP, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert response.status_code == 200, demo.stopped_output(response.text)
    body = response.json()
    assert [m["status"] for m in body["members"]] == ["ok"] * 5, [
        (m["reason"], m["problem"]) for m in body["members"]
    ]
    assert body["partial"] is False
    assert len(body["members"]) == 5
    assert {i["issuer"] for i in body["items"]} == LEARNER_AT
    assert len(body["items"]) == 6  # two passed micro-credentials at each of the three
    # Another member has no consent: refused.
    other = demo.token("uni-rheinland.de")
    denied = httpx.get(demo.base + LOOKUP, headers={"Authorization": f"Bearer {other}"}, timeout=10)
    assert denied.status_code == 403
    # The README's pathways call: the same records, evaluated for Avalon under the demo's agreements.
    pathways = httpx.get(
        f"{demo.base}/v1/learners/{ESI}/pathways?purpose=credit-transfer&member=uni-avalon.ac.uk",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert pathways.status_code == 200, pathways.text
    report = pathways.json()
    assert report["recogniser"] == {"id": "uni-avalon.ac.uk", "framework": "uk-fheq"}
    assert len(report["own_credit"]) == 2  # the two results at Avalon itself
    assert {o["credential"].split(":", 1)[0] for o in report["outcomes"]} == LEARNER_AT - {"uni-avalon.ac.uk"}
    # deploy/demo/recognition.json: Rheinland's credit is recognised under the bilateral agreement; the
    # consortium-wide one asks for a QA review date that OOAPI records do not carry, so Caledonia's goes
    # to review.
    statuses = sorted((o["credential"].split(":", 1)[0], o["status"]) for o in report["outcomes"])
    review, recognised = ("uni-caledonia.ac.uk", "needs_review"), ("uni-rheinland.de", "recognised")
    assert statuses == [review, review, recognised, recognised]
    assert report["awards"]
    assert all(a["framework"] == "uk-fheq" for a in report["awards"])
    # The serving workers called the members through pyreqwest (the default), whose runtime has threads of
    # its own: they still stop cleanly.
    assert demo.stop() == 0
    output = demo.proc.stdout.read() if demo.proc.stdout else ""
    assert "Fatal Python error" not in output
    assert "Traceback" not in output


def test_a_member_at_capacity_is_refused_early_with_retry_after(tmp_path: Path) -> None:
    env = {"GATEWAY_MEMBER_MAX_IN_FLIGHT": "1", "GATEWAY_MEMBER_QUEUE_WAIT": "0.2"}
    for demo in started(tmp_path / "var", env):
        ports = [
            int(p) for p in re.findall(r"\d+", demo.output_line("Federated lookup").split("ports", 1)[1])
        ]
        secret = (demo.data_dir / "demo" / "sandbox-admin-secret").read_text().strip()
        # uni-caledonia.ac.uk is the second member of the demo file: make its registry hang.
        hung = httpx.put(
            f"http://127.0.0.1:{ports[1]}/_sandbox/faults",
            json={"mode": "hang"},
            headers={"X-Sandbox-Admin": secret},
            timeout=5,
        )
        assert hung.status_code == 200
        token = demo.token("lakeside-college.edu")
        url = demo.base + LOOKUP + "&members=uni-caledonia.ac.uk"
        headers = {"Authorization": f"Bearer {token}"}
        with ThreadPoolExecutor(2) as pool:
            holder = pool.submit(httpx.get, url, headers=headers, timeout=10)
            while True:  # wait until the holder's call is in flight at the registry
                traces = httpx.get(
                    f"http://127.0.0.1:{ports[1]}/_sandbox/traceparents", headers={"X-Sandbox-Admin": secret}
                ).json()
                if traces:
                    break
            late = httpx.get(url, headers=headers, timeout=10)
            assert late.status_code == 503, late.text
            assert late.json()["type"] == "urn:consortium-gateway:problem:federation-overloaded"
            assert int(late.headers["Retry-After"]) >= 1
            first = holder.result()
        assert first.status_code == 200
        held = first.json()
        assert held["partial"] is True
        assert {m["member"]: m["status"] for m in held["members"]}["uni-caledonia.ac.uk"] == "timeout"
