"""The demo's recognition story: the same credentials recognised, partly recognised and sent to review at
different members, over HTTP and with ``consortium-gateway recognise``."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from e2e.test_demo import REPO, Demo
from process_helpers import cli

pytestmark = pytest.mark.e2e

CREDENTIALS = REPO / "deploy" / "demo" / "credentials"


def _evaluate(demo: Demo, member: str, credential: str) -> dict[str, Any]:
    body = {"credentials": [json.loads((CREDENTIALS / f"{credential}.json").read_text())]}
    response = httpx.post(
        f"{demo.base}/v1/recognition/evaluate",
        json=body,
        headers={"Authorization": f"Bearer {demo.token(member)}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    outcome: dict[str, Any] = response.json()["outcomes"][0]
    return outcome


def test_demo_outcomes_differ_by_member(tmp_path: Path) -> None:
    demo = Demo(tmp_path / "var")
    try:
        demo.wait_ready()
        # SCQF 10, 20 SCQF credits: 20 UK credits at Avalon (domain.md section 1: both are x0.5 to ECTS).
        at_avalon = _evaluate(demo, "uni-avalon.ac.uk", "caledonia-data-analytics")
        assert at_avalon["status"] == "recognised"
        assert at_avalon["credits"]["amount"] == 20
        # 30 UK credits under the bilateral cap of 15 (the consortium-wide agreement needs a QA review date).
        at_caledonia = _evaluate(demo, "uni-caledonia.ac.uk", "avalon-data-visualisation")
        assert at_caledonia["status"] == "partially_recognised"
        # US semester levels have no EQF referencing: a registrar decides the level.
        at_lakeside = _evaluate(demo, "lakeside-college.edu", "caledonia-data-analytics")
        assert at_lakeside["status"] == "needs_review"
        assert "conversion.level" in at_lakeside["undecided"]
    finally:
        assert demo.stop() == 0

    # The CLI evaluates against the same stored agreements (the demo's embedded database, now stopped).
    result = subprocess.run(
        [
            *cli(),
            "recognise",
            "--member",
            # Only the consortium-wide agreement binds Rheinland and Caledonia, and it asks for a QA review
            # date this credential does not carry (at Avalon, their bilateral agreement needs none).
            "uni-caledonia.ac.uk",
            "--credential",
            str(CREDENTIALS / "rheinland-machine-learning.json"),
            "--date",
            "2026-11-01",
            "--format",
            "text",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=demo.env,
    )
    assert result.returncode == 0, result.stderr
    assert "needs_review" in result.stdout
    assert "qa.current_at_award" in result.stdout
