"""The public surface of the framework contracts and adapters is pinned, and they stay pure."""

from __future__ import annotations

import ast
from pathlib import Path

import msgspec
import pytest

import adapters.frameworks
import adapters.testkit
import contracts.frameworks
from adapters.frameworks import Converter, reference_registry

FRAMEWORKS_DIR = Path(adapters.frameworks.__file__).parent
PURE = {
    "adapters",
    "contracts",
    "msgspec",
    "__future__",
    "typing",
    "collections",
    "bisect",
    "itertools",
    "csv",
    "io",
    "math",
    "re",
    "importlib",
}


def test_contracts_frameworks_surface() -> None:
    assert sorted(contracts.frameworks.__all__) == [
        "AwardRule",
        "ConversionStep",
        "CreditConversion",
        "CreditFramework",
        "CreditRequirement",
        "CreditUnit",
        "EctsConvention",
        "Explanation",
        "ExplanationBasis",
        "FactStatus",
        "FrameworkLevel",
        "FrameworkOverrides",
        "FrameworkSpec",
        "FullTimeYear",
        "GradeBand",
        "GradeConversion",
        "GradeDistribution",
        "GradeShare",
        "GradingScheme",
        "HoursPerUnit",
        "IssueSeverity",
        "LevelConversion",
        "MicroCredentialRules",
        "MicroCredentialValidation",
        "NormalisedGrade",
        "PassMark",
        "RplCap",
        "TableRef",
        "ValidationIssue",
    ]
    for name in contracts.frameworks.__all__:
        assert hasattr(contracts.frameworks, name)


def test_adapters_surface() -> None:
    assert set(adapters.frameworks.__all__) == {
        "ENTRY_POINT_GROUP",
        "PIVOT",
        "REFERENCE_FRAMEWORKS",
        "Converter",
        "FrameworkRegistry",
        "TableFramework",
        "apply_overrides",
        "reference_registry",
        "require_single_basis",
        "validate_micro_credential",
    }
    assert set(adapters.testkit.__all__) == {
        "CHECKS",
        "ConformanceReport",
        "Finding",
        "FrameworkConformance",
        "assert_conformant",
        "check_framework",
        "run_check",
    }


def test_framework_adapters_do_no_io() -> None:
    offenders = []
    for path in FRAMEWORKS_DIR.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] not in PURE]
            offenders += [
                f"{path.name}: {n}" for n in names if n.startswith("importlib") and n != "importlib.metadata"
            ]
    assert offenders == []


def test_specs_and_answers_round_trip_as_json() -> None:
    converter = Converter(reference_registry())
    for framework in reference_registry():
        spec = framework.spec
        assert msgspec.json.decode(msgspec.json.encode(spec), type=contracts.frameworks.FrameworkSpec) == spec
    answer = converter.level("6", "uk-fheq", "ie-nfq")
    assert (
        msgspec.json.decode(msgspec.json.encode(answer), type=contracts.frameworks.LevelConversion) == answer
    )
    credit = converter.credits(45, "us-quarter", "uk-fheq", "hours")
    assert (
        msgspec.json.decode(msgspec.json.encode(credit), type=contracts.frameworks.CreditConversion) == credit
    )


def test_overrides_decode_from_a_consortium_file_shape() -> None:
    raw = b"""{"ects_convention": {"units": 1, "ects": 2, "source": "Member agreement", "status": "C"},
               "pass_marks": [{"scheme": "uk-marks", "mark": 50, "source": "PG regs", "status": "C"}]}"""
    overrides = msgspec.json.decode(raw, type=contracts.frameworks.FrameworkOverrides)
    assert overrides.ects_convention is not None
    assert overrides.ects_convention.factor == 2
    # Levels (the official EQF referencing) are not overridable at all.
    with pytest.raises(msgspec.ValidationError, match="unknown field `levels`"):
        msgspec.json.decode(b'{"levels": []}', type=contracts.frameworks.FrameworkOverrides)
