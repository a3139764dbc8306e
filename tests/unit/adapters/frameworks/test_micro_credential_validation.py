"""Micro-credential records against EU Annex I and the framework's own rules (domain.md section 5)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from adapters.frameworks import reference_registry, validate_micro_credential
from contracts.credentials import MicroCredential

REGISTRY = reference_registry()
NZ = REGISTRY.get("nzqf")


def nz_record(**changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": "mc-1",
        "title": "Te reo for health workers",
        "awarding_body": {"name": "Otago Polytechnic", "country": "NZ"},
        "learning_outcomes": ["Use everyday te reo Maori with patients"],
        "workload": {
            "amount": 15,
            "unit": "nz-credit",
            "framework": "nzqf",
            "ects": 7.5,
            "ects_basis": "convention",
        },
        "assessment": ["portfolio"],
        "participation": ["blended"],
        "quality_assurance": {
            "type": "NZQA approval",
            "last_reviewed": "2025-01-15",
            "review_due": "2028-01-15",
        },
        "level": {"framework": "nzqf", "code": "4", "eqf": 4},
    }
    record.update(changes)
    return record


def issues_by_field(result: Any) -> dict[str, str]:
    return {i.field: i.element for i in result.issues}


def test_a_valid_nz_micro_credential() -> None:
    result = validate_micro_credential(nz_record(), NZ)
    assert result.valid, result.issues
    assert result.rule_set == "nzqa-2022"
    assert result.issues == ()
    # The same record as a Struct.
    assert validate_micro_credential(msgspec.convert(nz_record(), MicroCredential), NZ).valid


def test_every_failed_element_is_listed() -> None:
    record = nz_record(
        title="National Diploma in Care",  # NZQA rule 6: title words
        learning_outcomes=["   "],  # Annex I element 6
        workload={"amount": 45, "unit": "nz-credit", "framework": "nzqf"},  # NZQA: 1 to 40 credits
        level={"framework": "nzqf", "code": "8", "eqf": 7},  # NZQF 8 is unlevelled to the EQF
        quality_assurance={
            "type": "NZQA",
            "last_reviewed": "2020-01-01",
            "review_due": "2025-01-01",
        },  # > 3 years
    )
    result = validate_micro_credential(record, NZ)
    assert not result.valid
    assert issues_by_field(result) == {
        "$.title": "nzqa-2022:title-words",
        "$.learning_outcomes[0]": "annex-i:6",
        "$.workload.amount": "nzqa-2022:credit-range",
        "$.level.eqf": "annex-i:8",
        "$.quality_assurance.review_due": "nzqa-2022:review-period",
    }
    words = next(i for i in result.issues if i.field == "$.title")
    assert "diploma" in words.message
    assert "national" in words.message
    amount = next(i for i in result.issues if i.field == "$.workload.amount")
    assert amount.expected == "1 to 40 nz-credit"
    assert amount.status == "A"


def test_title_words_match_whole_words_only() -> None:
    assert validate_micro_credential(nz_record(title="Mastering spreadsheets"), NZ).valid
    assert not validate_micro_credential(nz_record(title="Undergraduate research skills"), NZ).valid
    assert not validate_micro_credential(nz_record(title="Masters-level writing"), NZ).valid


def test_malformed_and_missing_elements_are_all_reported() -> None:
    record = nz_record(awarding_body={"name": "X", "country": "nz"}, assessment=[], extra=True)
    del record["participation"]
    del record["level"]
    result = validate_micro_credential(record, NZ)
    assert issues_by_field(result) == {
        "$.extra": "record",
        "$.awarding_body.country": "annex-i:3-4",
        "$.assessment": "annex-i:9",
        "$.participation": "annex-i:10",
        "$.level": "nzqa-2022:level",  # NZQA listing details include the level
    }


def test_not_an_object() -> None:
    result = validate_micro_credential([1, 2], NZ)  # type: ignore[arg-type]
    assert [(i.field, i.expected) for i in result.issues] == [("$", "a JSON object")]


def test_workload_ects_must_match_the_convention() -> None:
    # 15 NZ credits x 0.5 = 7.5 ECTS (the U default); 10 does not match.
    record = nz_record(
        workload={
            "amount": 15,
            "unit": "nz-credit",
            "framework": "nzqf",
            "ects": 10,
            "ects_basis": "convention",
        }
    )
    result = validate_micro_credential(record, NZ)
    assert [(i.field, i.expected) for i in result.issues] == [("$.workload.ects", "7.5 (convention basis)")]


def test_older_rule_set_on_request() -> None:
    # 2018 policy: 5-40 credits, reviewed annually.
    record = nz_record(workload={"amount": 3, "unit": "nz-credit", "framework": "nzqf"})
    assert validate_micro_credential(record, NZ).valid
    result = validate_micro_credential(record, NZ, rule_set="nzqa-2018")
    assert {i.element for i in result.issues} == {"nzqa-2018:credit-range", "nzqa-2018:review-period"}


def test_uk_micro_credential_needs_a_level_and_credit() -> None:
    # QAA characteristics statement: credit-bearing, at a level of the national frameworks; no credit limits.
    uk = REGISTRY.get("uk-fheq")
    record = {
        "id": "uk-1",
        "title": "Data ethics",
        "awarding_body": {"name": "Uni A", "country": "GB"},
        "learning_outcomes": ["Assess a data project against ethical principles"],
        "workload": {"amount": 0, "unit": "uk-credit", "framework": "uk-fheq"},
        "assessment": ["project"],
        "participation": ["online"],
        "quality_assurance": {"type": "internal"},
    }
    result = validate_micro_credential(record, uk)
    assert {i.element for i in result.issues} == {"annex-i:7", "qaa-2022:credit-bearing", "qaa-2022:level"}
    record["workload"] = {"amount": 150, "unit": "uk-credit", "framework": "uk-fheq"}
    record["level"] = {"framework": "uk-fheq", "code": "6", "eqf": 6, "qf_ehea_cycle": "first"}
    assert validate_micro_credential(record, uk).valid  # no upper credit limit in QAA material


def test_level_checks_against_the_table() -> None:
    uk = REGISTRY.get("uk-fheq")
    record = msgspec.convert(
        {
            "id": "uk-2",
            "title": "Statistics",
            "awarding_body": {"name": "Uni A", "country": "GB"},
            "learning_outcomes": ["Fit a linear model"],
            "workload": {"amount": 20, "unit": "uk-credit", "framework": "uk-fheq"},
            "assessment": ["testing"],
            "participation": ["onsite"],
            "quality_assurance": {"type": "internal"},
            "level": {"framework": "uk-fheq", "code": "9"},
        },
        MicroCredential,
    )
    result = validate_micro_credential(record, uk)
    assert [i.field for i in result.issues] == ["$.level.code"]
    assert result.issues[0].expected is not None
    assert result.issues[0].expected.startswith("one of: 4, 5, 6, 7, 8, rqf-e1")


def test_ects_micro_credential_with_hours_basis() -> None:
    ects = REGISTRY.get("ects")
    record = nz_record(
        title="Open science",
        workload={"amount": 5, "unit": "ects", "framework": "ects", "ects": 5, "ects_basis": "convention"},
        level={"framework": "ects", "code": "7", "eqf": 7, "qf_ehea_cycle": "second"},
        quality_assurance={"type": "external", "last_reviewed": str(dt.date(2025, 1, 1))},
    )
    assert validate_micro_credential(record, ects).valid
