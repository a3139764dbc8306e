"""The conformance kit: every reference framework passes it, and it catches broken frameworks."""

from __future__ import annotations

import msgspec
import pytest

from adapters.frameworks import REFERENCE_FRAMEWORKS, TableFramework
from adapters.frameworks import ects as ects_module
from adapters.frameworks import nzqf as nzqf_module
from adapters.frameworks import uk_fheq as uk_fheq_module
from adapters.testkit import CHECKS, FrameworkConformance, assert_conformant, check_framework
from contracts.frameworks import CreditFramework, FrameworkLevel, FrameworkSpec, GradeBand


@pytest.mark.parametrize("framework", REFERENCE_FRAMEWORKS, ids=lambda f: f.id)
def test_reference_framework_is_conformant(framework: CreditFramework) -> None:
    report = check_framework(framework, max_examples=50)
    assert report.passed, report.summary()
    assert report.checks == CHECKS


class TestUkFheqConformance(FrameworkConformance):
    """The pytest base class, as an adapter package uses it."""

    framework = uk_fheq_module.framework
    max_examples = 25


class _Bypass:
    """A framework whose data skipped TableFramework's own checks: what a hand-written adapter could ship."""

    def __init__(self, spec: FrameworkSpec) -> None:
        self._inner = TableFramework(nzqf_module.SPEC)
        self._spec = spec

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)

    @property
    def spec(self) -> FrameworkSpec:
        return self._spec

    @property
    def levels(self) -> tuple[FrameworkLevel, ...]:
        return self._spec.levels


def _broken(**changes: object) -> CreditFramework:
    framework: CreditFramework = _Bypass(msgspec.structs.replace(nzqf_module.SPEC, **changes))  # type: ignore[assignment]
    return framework


def test_kit_catches_an_eqf_out_of_range() -> None:
    levels = list(nzqf_module.SPEC.levels)
    levels[0] = msgspec.structs.replace(levels[0], eqf=9)
    report = check_framework(_broken(levels=tuple(levels)), max_examples=5)
    messages = [f.message for f in report.findings if f.check in {"identity", "levels"}]
    assert any("EQF 9 is outside 1..8" in m for m in messages)
    assert any("contract constraint" in m for m in messages)


def test_kit_catches_grades_out_of_order() -> None:
    scheme = nzqf_module.SPEC.grading_schemes[0]
    bands = list(scheme.bands)
    bands[1], bands[2] = bands[2], bands[1]
    broken = _broken(grading_schemes=(msgspec.structs.replace(scheme, bands=tuple(bands)),))
    report = check_framework(broken, max_examples=5)
    assert any(f.check == "grade-tables" for f in report.findings)


def test_kit_catches_an_award_at_a_missing_level() -> None:
    rule = msgspec.structs.replace(nzqf_module.SPEC.award_rules[0], level="11")
    report = check_framework(_broken(award_rules=(rule,)), max_examples=5)
    assert any("unknown level '11'" in f.message for f in report.findings if f.check == "data")


def test_kit_catches_an_inverted_band_and_assert_conformant_raises() -> None:
    bad_band = GradeBand(code="X", label="X", lower=0.2, upper=0.1, passed=True)
    scheme = msgspec.structs.replace(ects_module.SPEC.grading_schemes[1], bands=(bad_band,))
    report = check_framework(_broken(grading_schemes=(scheme,)), max_examples=5)
    assert not report.passed
    with pytest.raises(AssertionError, match="problem"):
        assert_conformant(_broken(grading_schemes=(scheme,)), max_examples=5)
