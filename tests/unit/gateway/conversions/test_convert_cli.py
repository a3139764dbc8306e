"""``consortium-gateway convert`` and ``frameworks``: values from the reference tables, clear failures.

Expected figures come from shared/reference/domain.md (section 1 conversion conventions, section 2 level
referencing), not from running the converter.
"""

from __future__ import annotations

import json

import pytest

from gateway.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("amount", "source", "target", "expected"),
    [
        ("120", "uk-fheq", "ects", 60),  # UK credit -> ECTS x0.5 (B)
        ("360", "uk-fheq", "ects", 180),
        ("120", "scqf", "ects", 60),  # SCQF credit -> ECTS x0.5 (B)
        ("30", "us-semester", "ects", 60),  # US SCH -> ECTS x2 (C)
        ("45", "us-quarter", "ects", 60),  # US QCH -> ECTS x(2/1.5) (C)
        ("30", "us-semester", "uk-fheq", 120),  # via ECTS: 30 SCH = 60 ECTS = 120 UK
    ],
)
def test_convention_conversions(
    capsys: pytest.CaptureFixture[str], amount: str, source: str, target: str, expected: float
) -> None:
    code, out, _ = run(capsys, "convert", "credits", amount, "--from", source, "--to", target)
    assert code == 0
    result = json.loads(out)
    assert result["value"] == pytest.approx(expected)
    assert result["explanation"]["basis"] == "convention"


def test_hours_basis_gives_the_ects_range(capsys: pytest.CaptureFixture[str]) -> None:
    # 20 UK credits = 200 notional hours; an ECTS credit is 25-30 hours: 6.67-8 ECTS.
    code, out, _ = run(capsys, "convert", "credits", "20", "--from", "uk-fheq", "--basis", "hours")
    assert code == 0
    result = json.loads(out)
    assert result["is_range"] is True
    assert result["min"] == pytest.approx(200 / 30)
    assert result["max"] == pytest.approx(8)


@pytest.mark.parametrize(
    ("code", "source", "target", "expected"),
    [
        ("10", "scqf", "eqf", {6}),  # SCQF 10 -> EQF 6
        ("6", "eqf", "scqf", {"9", "10"}),  # EQF 6 -> SCQF 9 and 10: never narrowed to one
        ("8", "nzqf", "eqf", set()),  # NZQF 8: no EQF referencing
    ],
)
def test_level_conversions(
    capsys: pytest.CaptureFixture[str], code: str, source: str, target: str, expected: set[object]
) -> None:
    status, out, _ = run(capsys, "convert", "level", code, "--from", source, "--to", target)
    assert status == 0
    result = json.loads(out)
    if target == "eqf":
        assert ({result["eqf"]} - {None}) == expected
    else:
        assert {c["code"] for c in result["candidates"]} == expected
        assert result["ambiguous"] is True


def test_text_format_is_for_people(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "convert", "credits", "120", "--from", "uk-fheq", "--format", "text")
    assert code == 0
    assert out.startswith("120 uk-credit (uk-fheq) = 60 ects (ects)")
    assert "status B" in out


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["convert", "credits", "-3", "--from", "uk-fheq"], ">= 0"),
        (["convert", "credits", "ten", "--from", "uk-fheq"], "'ten' is not a number"),
        (["convert", "credits", "3", "--from", "atlantis"], "expected one of: ects"),
        (["convert", "level", "99", "--from", "scqf", "--to", "ects"], "'99' is not a level of scqf"),
        (["convert", "grade", "Z", "--from", "us-semester", "--to", "uk-fheq"], "Z"),
        (["convert", "grade", "A", "--from", "us-semester", "--to", "ects"], "distribution"),
        (["frameworks", "show", "atlantis"], "atlantis"),
    ],
)
def test_bad_input_exits_2_with_a_message(
    capsys: pytest.CaptureFixture[str], argv: list[str], fragment: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert fragment in err


def test_frameworks_list_and_show(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "frameworks", "list")
    assert code == 0
    ids = {f["id"] for f in json.loads(out)}
    assert {"uk-fheq", "scqf", "ects", "us-semester", "us-quarter", "nzqf", "ie-nfq"} <= ids
    code, out, _ = run(capsys, "frameworks", "show", "nzqf", "--format", "text")
    assert code == 0
    assert "NZQF" in out or "New Zealand" in out
