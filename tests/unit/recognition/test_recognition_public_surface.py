"""The recognition package: a pinned public surface, and no I/O (it is a pure engine)."""

from __future__ import annotations

import ast
from pathlib import Path

import gateway.recognition
from gateway.recognition import models

PACKAGE = Path(gateway.recognition.__file__).parent

# What the engine may import: itself, the shared contracts, the framework adapters, msgspec, and these parts
# of the standard library. No database, HTTP server or client.
ALLOWED = {
    "gateway",
    "contracts",
    "adapters",
    "msgspec",
    "__future__",
    "typing",
    "datetime",
    "collections",
    "re",
    "contextlib",
}
FORBIDDEN = {"asyncpg", "litestar", "httpx", "aiohttp", "socket", "asyncio", "urllib", "opentelemetry"}


def test_public_surface_is_pinned() -> None:
    assert sorted(gateway.recognition.__all__) == [
        "OUTCOME_TIERS",
        "RecognitionEngine",
        "award_progress",
        "check_agreements",
        "check_equivalences",
        "decode_credential",
        "outcome_rank",
        "validate_request",
    ]
    for name in gateway.recognition.__all__:
        assert hasattr(gateway.recognition, name)


def test_models_surface_is_pinned() -> None:
    assert sorted(models.__all__) == sorted(
        [
            "MAX_CREDENTIALS",
            "AgreementConditions",
            "AgreementScope",
            "AgreementStatus",
            "AwardProgress",
            "AwardRef",
            "Bilateral",
            "BlockCreditGrant",
            "ConsortiumWide",
            "CredentialOutcome",
            "CredentialType",
            "EqfRange",
            "Equivalence",
            "EvaluationRequest",
            "EvaluationResult",
            "ExcludedCredential",
            "FrameworkGradeMinimum",
            "GeneralCreditGrant",
            "Grant",
            "LevelCredits",
            "LevelRef",
            "MaxAge",
            "ModuleGrant",
            "NormalisedGradeMinimum",
            "OutcomeStatus",
            "OwnCredit",
            "Parties",
            "PathwayReport",
            "RecognisedModule",
            "RecognisingMember",
            "RecognitionAgreement",
            "RecognitionExplanation",
            "RequirementProgress",
            "RplCapProgress",
            "RuleCheck",
            "RuleInput",
            "RuleResult",
            "VersionRef",
        ]
    )
    for name in models.__all__:
        assert hasattr(models, name)


# The capability's I/O lives in these modules (STYLE.md: routes, service, store; and its command);
# the engine and its models, which they feed, import none of it.
IO_MODULES = {"cli.py", "routes.py", "service.py", "store.py"}


def test_recognition_imports_no_io() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.name in IO_MODULES:
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                inside = name.startswith("gateway.recognition") or top != "gateway"
                if top not in ALLOWED or top in FORBIDDEN or not inside:
                    offenders.append(f"{path.name}: {name}")
    assert offenders == []


def test_engine_modules_never_import_the_io_modules() -> None:
    for path in PACKAGE.rglob("*.py"):
        if path.name in IO_MODULES:
            continue
        text = path.read_text()
        for module in (
            "gateway.recognition.store",
            "gateway.recognition.service",
            "gateway.recognition.routes",
        ):
            assert module not in text, f"{path.name} imports {module}"
