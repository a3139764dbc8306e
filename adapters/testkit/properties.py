"""Property checks of the conformance kit, with Hypothesis: credit conversion is monotonic and linear where
the basis says so, round trips stay within tolerance, grade normalisation is monotonic."""

from __future__ import annotations

import math
from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.frameworks.conversion import Converter
from adapters.frameworks.conversion.grades import Side, convert_grade
from contracts.frameworks import CreditFramework, GradingScheme

__all__ = ["check_credit_properties", "check_grade_properties"]

_AMOUNT = st.floats(min_value=0, max_value=10_000, allow_nan=False, allow_infinity=False)


def _run(name: str, test: Callable[[], None], problems: list[str]) -> None:
    try:
        test()
    except AssertionError as exc:
        problems.append(f"{name}: {exc}")


def _close(a: float, b: float, tolerance: float) -> bool:
    return math.isclose(a, b, rel_tol=tolerance, abs_tol=tolerance)


def check_credit_properties(
    framework: CreditFramework, converter: Converter, pivot: str, *, max_examples: int, tolerance: float
) -> list[str]:
    """Both directions to ``pivot`` on every basis the framework supports."""
    problems: list[str] = []
    fid = framework.id
    policy = settings(
        max_examples=max_examples, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
    )
    has_convention = framework.credit.ects is not None

    @policy
    @given(_AMOUNT, _AMOUNT)
    def convention_monotonic_and_linear(a: float, b: float) -> None:
        ca = converter.credits(a, fid, pivot).min
        cb = converter.credits(b, fid, pivot).min
        assert (ca <= cb) == (a <= b) or _close(ca, cb, tolerance), f"not monotonic at {a}, {b}"
        if a + b <= 10_000:
            total = converter.credits(a + b, fid, pivot).min
            assert _close(total, ca + cb, tolerance), f"not linear: f({a}+{b}) = {total} != {ca} + {cb}"

    @policy
    @given(_AMOUNT)
    def convention_round_trip(a: float) -> None:
        there = converter.credits(a, fid, pivot)
        assert not there.is_range, "the convention basis gave a range"
        back = converter.credits(there.min, pivot, fid).min
        assert _close(back, a, tolerance), f"round trip {a} -> {there.min} -> {back}"

    @policy
    @given(_AMOUNT, _AMOUNT)
    def hours_monotonic_range(a: float, b: float) -> None:
        ra = converter.credits(a, fid, pivot, "hours")
        rb = converter.credits(b, fid, pivot, "hours")
        assert ra.min <= ra.max, f"range min above max at {a}"
        assert ra.is_range == (ra.min != ra.max), "is_range disagrees with min/max"
        if a <= b:
            assert ra.min <= rb.min + tolerance, f"range minimum not monotonic at {a}, {b}"
            assert ra.max <= rb.max + tolerance, f"range maximum not monotonic at {a}, {b}"

    @policy
    @given(_AMOUNT)
    def hours_round_trip_contains(a: float) -> None:
        there = converter.credits(a, fid, pivot, "hours")
        low = converter.credits(there.min, pivot, fid, "hours").min
        high = converter.credits(there.max, pivot, fid, "hours").max
        assert low - tolerance <= a <= high + tolerance, f"round trip range {low}..{high} misses {a}"

    if has_convention:
        _run("convention basis monotonic and linear", convention_monotonic_and_linear, problems)
        _run("convention round trip", convention_round_trip, problems)
    _run("hours basis monotonic", hours_monotonic_range, problems)
    _run("hours round trip", hours_round_trip_contains, problems)
    return problems


def _marks_monotonic(fw: CreditFramework, scheme: GradingScheme, policy: settings) -> Callable[[], None]:
    assert scheme.max_mark is not None
    assert scheme.pass_mark is not None
    marks = st.floats(min_value=0, max_value=scheme.max_mark, allow_nan=False)
    pass_mark = scheme.pass_mark

    @policy
    @given(marks, marks)
    def marks_monotonic(a: float, b: float) -> None:
        na = fw.normalise_grade(repr(a), scheme.id)
        nb = fw.normalise_grade(repr(b), scheme.id)
        assert (na.point <= nb.point) == (a <= b) or na.point == nb.point, f"{scheme.id}: {a} vs {b}"
        assert na.passed == (a >= pass_mark), f"{scheme.id}: pass status of {a}"

    return marks_monotonic


def _self_conversion(fw: CreditFramework, scheme: GradingScheme, policy: settings) -> Callable[[], None]:
    src, dst = Side("from", fw, scheme), Side("to", fw, scheme)

    @policy
    @given(st.sampled_from([b.code for b in scheme.bands]))
    def band_round_trip(code: str) -> None:
        result = convert_grade(code, src, dst)
        expected = fw.normalise_grade(code, scheme.id).value
        assert result.value == expected, f"{scheme.id}: {code} -> {result.value}"

    return band_round_trip


def check_grade_properties(framework: CreditFramework, *, max_examples: int) -> list[str]:
    """Marks normalise monotonically with pass status from the pass mark; named grades convert to their own
    scheme unchanged."""
    problems: list[str] = []
    policy = settings(max_examples=max_examples, deadline=None, database=None)
    for scheme in framework.spec.grading_schemes:
        if scheme.kind == "marks":
            check = _marks_monotonic(framework, scheme, policy)
            _run(f"{scheme.id} normalisation monotonic", check, problems)
        elif scheme.kind != "ranked" and scheme.bands:
            _run(f"{scheme.id} self-conversion", _self_conversion(framework, scheme, policy), problems)
    return problems
