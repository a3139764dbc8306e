"""The contracts package: a pinned public surface, and no I/O."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import contracts

CONTRACTS = Path(contracts.__file__).parent

# What contracts may import: itself, msgspec, and these parts of the standard library.
ALLOWED = {
    "contracts",
    "msgspec",
    "__future__",
    "typing",
    "datetime",
    "enum",
    "re",
    "collections",
    "dataclasses",
}


def test_public_surface_is_pinned() -> None:
    assert sorted(contracts.__all__) == [
        "AwardingBody",
        "Contract",
        "CredentialRecord",
        "CreditValue",
        "FieldError",
        "Grade",
        "LearnerIdentifier",
        "LearnerRef",
        "Level",
        "Member",
        "MemberConnector",
        "MemberPage",
        "MemberProfile",
        "MicroCredential",
        "Problem",
        "Provenance",
        "QualityAssurance",
        "Stackability",
    ]
    for name in contracts.__all__:
        assert hasattr(contracts, name)


def test_contracts_import_no_io() -> None:
    offenders = []
    for path in CONTRACTS.rglob("*.py"):
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
                if top not in ALLOWED:
                    offenders.append(f"{path.name}: {name}")
    assert offenders == []


def test_every_allowed_stdlib_module_is_really_stdlib() -> None:
    assert ALLOWED - {"contracts", "msgspec"} <= set(sys.stdlib_module_names)
