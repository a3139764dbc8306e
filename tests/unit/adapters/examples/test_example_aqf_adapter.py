"""The example adapter package (adapters/examples/aqf) passes the conformance kit.

CI installs only the main project, so the example's ``src`` directory is put on ``sys.path`` here instead of
pip-installing it. Figures: ASQA volume of learning (1 year ~ 1,200 h), ECTS 25-30 h per credit
(shared/reference/domain.md sections 1 and 3).
"""

from __future__ import annotations

import sys
import tomllib
from importlib import import_module
from importlib.metadata import EntryPoint
from pathlib import Path
from types import ModuleType

import pytest

from adapters.frameworks import ENTRY_POINT_GROUP, REFERENCE_FRAMEWORKS, Converter, FrameworkRegistry
from adapters.frameworks.registry import load_entry_point
from adapters.testkit import FrameworkConformance, check_framework
from contracts.errors import MixedConversionBasis

EXAMPLE = Path(__file__).resolve().parents[4] / "adapters" / "examples" / "aqf"


def _load_example() -> ModuleType:
    src = str(EXAMPLE / "src")
    if src not in sys.path:
        sys.path.insert(0, src)
    return import_module("consortium_gateway_aqf")


AQF = _load_example()
CONVERTER = Converter(FrameworkRegistry([*REFERENCE_FRAMEWORKS, AQF.framework]))


class TestAqfExampleConformance(FrameworkConformance):
    framework = AQF.framework
    max_examples = 25


def test_report_is_clean() -> None:
    report = check_framework(AQF.framework, max_examples=25)
    assert report.passed, report.summary()


def test_example_declares_its_entry_point() -> None:
    table = tomllib.loads((EXAMPLE / "pyproject.toml").read_text())["project"]["entry-points"][
        ENTRY_POINT_GROUP
    ]
    assert table == {"aqf": "consortium_gateway_aqf:framework"}
    framework = load_entry_point(EntryPoint(name="aqf", value=table["aqf"], group=ENTRY_POINT_GROUP))
    assert framework is AQF.framework


def test_hours_only_framework() -> None:
    # No national credit unit and no ECTS convention: the convention basis is refused, never mixed in.
    with pytest.raises(MixedConversionBasis) as err:
        CONVERTER.credits(1200, "aqf", "ects")
    assert err.value.field == "basis"
    # 60 ECTS = 1,500-1,800 h (ECTS Users' Guide).
    hours = CONVERTER.credits(60, "ects", "aqf", "hours")
    assert (hours.min, hours.max) == (1500, 1800)
    # One full-time year, 1,200 h, is 40-48 ECTS by hours.
    year = CONVERTER.credits(1200, "aqf", "ects", "hours")
    assert (year.min, year.max) == (40, 48)


def test_unverified_eqf_referencing_gives_no_candidates() -> None:
    answer = CONVERTER.level("7", "aqf", "uk-fheq")
    assert answer.eqf is None
    assert answer.candidates == ()
    assert AQF.framework.level("7").status == "U"


def test_volume_of_learning_rules() -> None:
    # Diploma 1-2 years = 1,200-2,400 h (ASQA, A).
    rule = AQF.framework.award_rule("diploma")
    assert rule.total is not None
    assert (rule.total.min_credits, rule.total.max_credits, rule.total.status) == (1200, 2400, "A")
