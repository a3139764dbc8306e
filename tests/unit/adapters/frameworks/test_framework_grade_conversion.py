"""Grades: normalisation and conversion. Bands and figures come from shared/reference/domain.md section 4;
distribution-table answers are worked out by hand with the ECTS method ("place the foreign grade's percentile
band against the home table's bands")."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.frameworks import Converter, reference_registry
from contracts.errors import GradeDistributionRequired, InvalidRequest, UnknownGrade
from contracts.frameworks import FrameworkOverrides, GradeDistribution, GradeShare, PassMark

REGISTRY = reference_registry()
CONVERTER = Converter(REGISTRY)
UK = REGISTRY.get("uk-fheq")


@pytest.mark.parametrize(
    ("mark", "classification"),
    # "First >=70; Upper second (2:1) 60-69; Lower second (2:2) 50-59; Third 40-49; below 40 = fail"
    [
        ("100", "first"),
        ("70", "first"),
        ("69.9", "2:1"),
        ("60", "2:1"),
        ("55", "2:2"),
        ("40", "third"),
        ("39.5", "fail"),
        ("0", "fail"),
    ],
)
def test_uk_marks_to_honours_bands(mark: str, classification: str) -> None:
    answer = CONVERTER.grade(mark, "uk-fheq", "uk-fheq", from_scheme="uk-marks", to_scheme="uk-honours")
    assert answer.value == classification
    assert answer.basis == "scale"


def test_uk_pass_mark_is_40_by_default() -> None:
    # "Common pass marks are 40% for UG modules" (C): a default, overridable.
    assert UK.normalise_grade("40").passed
    assert not UK.normalise_grade("39.9").passed
    assert UK.grading_scheme("uk-marks").status == "C"


def test_pass_mark_override_for_postgraduate_modules() -> None:
    # "... and 50% for PG taught modules (e.g. Loughborough PG)" (C).
    pg = UK.with_overrides(
        FrameworkOverrides(
            pass_marks=(PassMark(scheme="uk-marks", mark=50, source="Loughborough PG", status="C"),)
        )
    )
    assert not pg.normalise_grade("45").passed
    assert pg.normalise_grade("50").passed
    assert "Loughborough PG" in pg.grading_scheme("uk-marks").source


def test_us_letter_points() -> None:
    # A = 4, B = 3, C = 2, D = 1, F = 0; A- 3.7; B+ 3.3; A+ capped at 4.0 (normalised as points / 4).
    us = REGISTRY.get("us-semester")
    for letter, points in [("A", 4), ("B", 3), ("C", 2), ("D", 1), ("F", 0), ("A-", 3.7), ("B+", 3.3)]:
        assert us.normalise_grade(letter).point == pytest.approx(points / 4)
    assert us.normalise_grade("A+").value == "A"
    assert not us.normalise_grade("F").passed


def test_nz_achievement_order_and_pass_status() -> None:
    # Not Achieved, Achieved, Merit, Excellence (B); the numeric scale is ours (U).
    nz = REGISTRY.get("nzqf")
    points = [nz.normalise_grade(g).point for g in ("N", "A", "M", "E")]
    assert points == sorted(points)
    assert [nz.normalise_grade(g).passed for g in ("N", "A", "M", "E")] == [False, True, True, True]
    assert nz.grading_scheme().status == "U"


def test_pass_fail_only_carries_pass_status() -> None:
    passed = CONVERTER.grade("pass", "ects", "uk-fheq", from_scheme="pass-fail", to_scheme="uk-honours")
    assert passed.value == "third"  # the lowest passing classification
    assert set(passed.candidates) == {"third", "2:2", "2:1", "first"}
    failed = CONVERTER.grade("fail", "ects", "uk-fheq", from_scheme="pass-fail", to_scheme="uk-honours")
    assert (failed.value, failed.passed) == ("fail", False)
    # NZ unit standards: Achieved / Not Achieved.
    assert CONVERTER.grade(
        "achieved", "nzqf", "ects", from_scheme="nz-unit-standard", to_scheme="pass-fail"
    ).value == ("pass")


def test_pass_status_is_kept_across_scales() -> None:
    # US D- passes (0.7 grade points), though 0.7/4 lies below the UK 40% line: it stays a pass.
    answer = CONVERTER.grade("D-", "us-semester", "uk-fheq", to_scheme="uk-honours")
    assert answer.passed
    assert answer.value == "third"
    # A UK fail never becomes a US pass.
    assert CONVERTER.grade("fail", "uk-fheq", "us-semester", from_scheme="uk-honours").value == "F"


def test_scale_conversion_explains_both_schemes() -> None:
    answer = CONVERTER.grade("2:1", "uk-fheq", "us-semester", from_scheme="uk-honours")
    why = answer.explanation
    assert why.basis == "scale"
    assert why.chain == ("uk-fheq:uk-honours", "scale", "us-semester:us-letter")
    assert [s.status for s in why.steps] == ["C", "C"]
    assert answer.from_grade.lower == 0.6
    assert answer.from_grade.upper == 0.7


# --- ECTS grading: distribution tables, never a fixed mapping ---------------------------------------------

UNI_A = GradeDistribution(
    institution="Uni A",
    scheme="uk-honours",
    reference_group="BSc Computing",
    cohorts="2023-2025",
    # Passing students only: first 20%, 2:1 45%, 2:2 25%, third 10%.
    shares=(
        GradeShare(grade="first", percent=20),
        GradeShare(grade="2:1", percent=45),
        GradeShare(grade="2:2", percent=25),
        GradeShare(grade="third", percent=10),
    ),
    source="Uni A transcript grading table",
)


@pytest.mark.parametrize(
    ("grade", "ects", "candidates"),
    [
        # third: percentiles 0-10 -> E (0-10)
        ("third", "E", {"E"}),
        # 2:2: 10-35 (middle 22.5) -> D (10-35)
        ("2:2", "D", {"D"}),
        # 2:1: 35-80 (middle 57.5) -> C (35-65); overlaps C and B (65-90)
        ("2:1", "C", {"C", "B"}),
        # first: 80-100 (middle 90) -> A (90-100); overlaps B and A
        ("first", "A", {"B", "A"}),
    ],
)
def test_local_grade_to_ects_letter_through_the_table(grade: str, ects: str, candidates: set[str]) -> None:
    answer = CONVERTER.grade(
        grade, "uk-fheq", "ects", from_scheme="uk-honours", to_scheme="ects-letter", from_distribution=UNI_A
    )
    assert answer.basis == "distribution"
    assert answer.value == ects
    assert set(answer.candidates) == candidates
    assert {t.version for t in answer.explanation.tables} >= {"2023-2025"}


def test_same_letters_with_local_percentages_are_not_the_standard_scale() -> None:
    # Silesian Univ. Opava publishes A 22 / B 18 / C 23 / D 17 / E 20 (C): never assume 10/25/30/25/10.
    opava = GradeDistribution(
        institution="Silesian University in Opava",
        scheme="ects-letter",
        reference_group="all programmes",
        cohorts="published",
        shares=tuple(
            GradeShare(grade=g, percent=p) for g, p in [("A", 22), ("B", 18), ("C", 23), ("D", 17), ("E", 20)]
        ),
        source="Opava published ECTS percentages",
    )
    # Opava A = best 22% -> percentiles 78-100 (middle 89) -> standard B (65-90); overlaps B and A.
    answer = CONVERTER.grade("A", "ects", "ie-nfq", to_scheme="ects-letter", from_distribution=opava)
    assert answer.value == "B"
    assert set(answer.candidates) == {"B", "A"}


def test_member_stored_table_is_used() -> None:
    uni_a = UK.with_overrides(FrameworkOverrides(grade_distributions=(UNI_A,)))
    converter = Converter(
        REGISTRY.with_overrides({"uk-fheq": FrameworkOverrides(grade_distributions=(UNI_A,))})
    )
    assert uni_a.spec.grade_distributions == (UNI_A,)
    answer = converter.grade("2:2", "uk-fheq", "ects", from_scheme="uk-honours", to_scheme="ects-letter")
    assert answer.value == "D"


def test_ects_letter_needs_a_table_on_the_other_side() -> None:
    with pytest.raises(GradeDistributionRequired) as err:
        CONVERTER.grade("B", "us-semester", "ects", to_scheme="ects-letter")
    assert err.value.field == "from_distribution"
    assert err.value.expected == "a grade-distribution table for us-semester scheme us-letter"
    with pytest.raises(GradeDistributionRequired) as err:
        CONVERTER.grade("B", "ects", "uk-fheq", to_scheme="uk-honours")
    assert err.value.field == "to_distribution"


def test_numeric_marks_cannot_use_distribution_tables() -> None:
    with pytest.raises(InvalidRequest) as err:
        CONVERTER.grade("B", "ects", "uk-fheq", to_scheme="uk-marks")
    assert (err.value.field, err.value.expected) == ("to_scheme", "a scheme with named grades")


def test_malformed_distribution_table() -> None:
    bad = GradeDistribution(
        institution="Uni B",
        scheme="uk-honours",
        reference_group="x",
        cohorts="2024",
        shares=(GradeShare(grade="first", percent=50), GradeShare(grade="fail", percent=30)),
        source="Uni B",
    )
    with pytest.raises(InvalidRequest) as err:
        CONVERTER.grade("first", "uk-fheq", "ects", from_scheme="uk-honours", from_distribution=bad)
    assert err.value.field == "from_distribution"
    assert "'fail' is not a passing grade" in err.value.detail
    assert "sum to 80" in err.value.detail


def test_unknown_grade_and_scheme() -> None:
    with pytest.raises(UnknownGrade) as err:
        CONVERTER.grade("Z", "us-semester", "uk-fheq")
    assert err.value.field == "value"
    assert err.value.expected is not None
    assert err.value.expected.startswith("one of: F, D-, D, D+")
    with pytest.raises(UnknownGrade) as err:
        CONVERTER.grade("101", "uk-fheq", "us-semester")
    assert (err.value.field, err.value.expected) == ("value", "a mark from 0 to 100")
    with pytest.raises(UnknownGrade) as err:
        CONVERTER.grade("A", "us-semester", "uk-fheq", from_scheme="gpa")
    assert err.value.field == "from_scheme"
    assert err.value.expected == "one of: us-letter, pass-fail"


# --- properties -------------------------------------------------------------------------------------------

SCALE_SCHEMES = [(fw.id, s.id) for fw in REGISTRY for s in fw.spec.grading_schemes if s.kind == "bands"]


@given(st.sampled_from(SCALE_SCHEMES), st.sampled_from(SCALE_SCHEMES), st.data())
def test_scale_conversion_is_monotonic_and_keeps_pass_status(
    src: tuple[str, str], dst: tuple[str, str], data: st.DataObject
) -> None:
    codes = [b.code for b in REGISTRY.get(src[0]).grading_scheme(src[1]).bands]
    i, j = sorted(data.draw(st.lists(st.integers(0, len(codes) - 1), min_size=2, max_size=2)))
    target = [b.code for b in REGISTRY.get(dst[0]).grading_scheme(dst[1]).bands]
    low = CONVERTER.grade(codes[i], src[0], dst[0], from_scheme=src[1], to_scheme=dst[1])
    high = CONVERTER.grade(codes[j], src[0], dst[0], from_scheme=src[1], to_scheme=dst[1])
    assert target.index(low.value) <= target.index(high.value)
    for answer in (low, high):
        assert REGISTRY.get(dst[0]).normalise_grade(answer.value, dst[1]).passed == answer.passed
        assert answer.value in answer.candidates


@given(
    st.floats(min_value=0, max_value=100, allow_nan=False),
    st.floats(min_value=0, max_value=100, allow_nan=False),
)
def test_marks_normalisation_is_monotonic(a: float, b: float) -> None:
    na, nb = UK.normalise_grade(repr(a)), UK.normalise_grade(repr(b))
    if a <= b:
        assert na.point <= nb.point
    assert na.passed == (a >= 40)
