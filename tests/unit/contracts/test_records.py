"""Canonical records: EU Annex I elements, strict decoding, identifiers, JSON Schema export."""

from __future__ import annotations

import copy
from typing import Any

import msgspec
import pytest

from contracts import CredentialRecord, CreditValue, LearnerIdentifier, Member, MicroCredential
from contracts.schema import EXPORTED, json_schemas

RECORD: dict[str, Any] = {
    "id": "uni-a.ac.uk:mc-2026-0001",
    "learner": {
        "identifiers": [
            {"scheme": "esi", "value": "urn:schac:personalUniqueCode:int:esi:uni-a.ac.uk:12345"},
            {"scheme": "local", "value": "s1234567", "member": "uni-a.ac.uk"},
        ]
    },
    "credential": {
        "id": "uni-a.ac.uk:DATA101",
        "title": "Data literacy for professionals",
        "awarding_body": {"name": "University A", "country": "GB", "member": "uni-a.ac.uk"},
        "learning_outcomes": ["Explain sampling bias", "Build a reproducible analysis"],
        "workload": {
            "amount": 20,
            "unit": "uk-credit",
            "framework": "uk-fheq",
            "ects": 10,
            "ects_basis": "convention",
            "notional_hours": 200,
        },
        "level": {"framework": "uk-fheq", "code": "6", "eqf": 6, "qf_ehea_cycle": "first"},
        "assessment": ["project"],
        "participation": ["online"],
        "quality_assurance": {"type": "internal", "body": "QAA", "review_due": "2028-06-30"},
        "supervision": "supervised_with_id_check",
        "stackability": {"kind": "stackable", "towards": ["PgCert Data Science"]},
    },
    "issuer": "uni-a.ac.uk",
    "issued_on": "2026-07-01",
    "grade": {"framework": "uk-fheq", "scheme": "percentage", "value": "68", "passed": True},
    "qa_status": "current",
    "provenance": {
        "member": "uni-a.ac.uk",
        "connector": "ooapi",
        "source_id": "results/889",
        "fetched_at": "2026-11-22T10:00:00Z",
    },
}

# Annex I mandatory elements 2, 4, 6, 7, 9, 10, 11 on the micro-credential (1 and 5 are on the record).
ANNEX_I_ON_CREDENTIAL = [
    "title",
    "awarding_body",
    "learning_outcomes",
    "workload",
    "assessment",
    "participation",
    "quality_assurance",
]


def test_full_record_round_trips() -> None:
    record = msgspec.convert(RECORD, CredentialRecord)
    assert record.credential.level is not None
    assert record.credential.level.eqf == 6
    assert msgspec.to_builtins(record)["credential"]["workload"]["ects"] == 10
    again = msgspec.json.decode(msgspec.json.encode(record), type=CredentialRecord)
    assert again == record


@pytest.mark.parametrize("element", ANNEX_I_ON_CREDENTIAL)
def test_each_mandatory_annex_i_element_is_required(element: str) -> None:
    data = copy.deepcopy(RECORD)
    del data["credential"][element]
    with pytest.raises(msgspec.ValidationError, match=f"missing required field `{element}`"):
        msgspec.convert(data, CredentialRecord)


@pytest.mark.parametrize("element", ["learner", "issued_on", "issuer"])
def test_record_level_mandatory_elements(element: str) -> None:
    data = copy.deepcopy(RECORD)
    del data[element]
    with pytest.raises(msgspec.ValidationError, match=f"missing required field `{element}`"):
        msgspec.convert(data, CredentialRecord)


def test_empty_learning_outcomes_are_refused() -> None:
    data = copy.deepcopy(RECORD)
    data["credential"]["learning_outcomes"] = []
    with pytest.raises(msgspec.ValidationError, match=r"\$\.credential\.learning_outcomes"):
        msgspec.convert(data, CredentialRecord)


def test_unknown_fields_are_refused_with_their_path() -> None:
    data = copy.deepcopy(RECORD)
    data["credential"]["workload"]["ects_grade"] = "A"
    with pytest.raises(
        msgspec.ValidationError, match=r"unknown field `ects_grade` - at `\$\.credential\.workload`"
    ):
        msgspec.convert(data, CredentialRecord)


def test_ects_needs_its_basis() -> None:
    with pytest.raises(msgspec.ValidationError, match="`ects` and `ects_basis` must be given together"):
        msgspec.convert({"amount": 20, "unit": "uk-credit", "framework": "uk-fheq", "ects": 10}, CreditValue)
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"amount": -1, "unit": "uk-credit", "framework": "uk-fheq"}, CreditValue)


def test_eqf_level_is_1_to_8() -> None:
    data = copy.deepcopy(RECORD)
    data["credential"]["level"]["eqf"] = 9
    with pytest.raises(msgspec.ValidationError, match="<= 8"):
        msgspec.convert(data, CredentialRecord)


@pytest.mark.parametrize(
    "value",
    [
        "urn:schac:personalUniqueCode:int:esi:es:12345678Z",
        "urn:schac:personalUniqueCode:int:esi:uma.es:A-99",
        "URN:SCHAC:personalUniqueCode:INT:ESI:FR:X1",  # matched case-insensitively (domain.md section 7)
    ],
)
def test_esi_forms_accepted(value: str) -> None:
    msgspec.convert({"scheme": "esi", "value": value}, LearnerIdentifier)
    from contracts.types import Esi

    msgspec.convert(value, Esi)


@pytest.mark.parametrize(
    "value",
    [
        "urn:schac:personalUniqueCode:es:ESI:uma.es:1",  # legacy draft form, not canonical
        "urn:schac:personalUniqueCode:int:esi:es:",  # empty code
        "urn:schac:personalUniqueCode:int:esi:es:" + "x" * 250,  # over 255 characters
    ],
)
def test_esi_malformed_refused(value: str) -> None:
    from contracts.types import Esi

    with pytest.raises(msgspec.ValidationError):
        msgspec.convert(value, Esi)


@pytest.mark.parametrize("member_id", ["Uni-A.ac.uk", "localhost", "uni_a.ac.uk", "-uni.ac.uk", "a.b"])
def test_member_id_must_be_a_lower_case_domain(member_id: str) -> None:
    with pytest.raises(msgspec.ValidationError, match=r"\$\.id"):
        msgspec.convert(
            {
                "id": member_id,
                "name": "X",
                "country": "GB",
                "framework": "uk-fheq",
                "connector": {"id": "ooapi"},
            },
            Member,
        )


def test_json_schema_export_covers_every_contract() -> None:
    schemas = json_schemas()
    assert set(schemas) == {m.__name__ for m in EXPORTED}
    micro = schemas["CredentialRecord"]["$defs"]["MicroCredential"]
    assert set(ANNEX_I_ON_CREDENTIAL) <= set(micro["required"])
    problem = schemas["Problem"]
    assert problem["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert set(problem["$defs"]["Problem"]["required"]) == {"type", "title", "status"}


def test_microcredential_is_immutable() -> None:
    record = msgspec.convert(RECORD, CredentialRecord)
    credential: MicroCredential = record.credential
    with pytest.raises(AttributeError):
        credential.title = "changed"  # type: ignore[misc]
