"""Bad input is refused with typed errors naming the field and what was expected (rendered as RFC 9457)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
import pytest
from recognition_builders import (
    MEMBERS,
    TODAY,
    A,
    B,
    S,
    agreement,
    credits,
    equivalence,
    module,
    recogniser,
    record,
)

from contracts.credentials import Stackability
from contracts.credits import CreditValue
from contracts.errors import (
    GatewayError,
    InvalidAgreement,
    InvalidCredentialRecord,
    InvalidRequest,
    MixedConversionBasis,
    OverlappingAgreementVersions,
    UnknownFramework,
    UnknownGrade,
    UnknownLevel,
    UnknownMember,
)
from gateway.recognition import RecognitionEngine, decode_credential
from gateway.recognition.models import (
    AgreementConditions,
    AgreementScope,
    AwardRef,
    Bilateral,
    BlockCreditGrant,
    EvaluationRequest,
    FrameworkGradeMinimum,
    LevelRef,
    ModuleGrant,
    RecognisingMember,
)

ENGINE = RecognitionEngine([agreement()], members=MEMBERS)


def request(*records: Any, to: RecognisingMember | None = None, **changes: Any) -> EvaluationRequest:
    return EvaluationRequest(
        credentials=tuple(records) or (record(),),
        recogniser=to or recogniser(B),
        evaluation_date=TODAY,
        **changes,
    )


def refused(error: type[GatewayError], req: EvaluationRequest) -> GatewayError:
    with pytest.raises(error) as err:
        ENGINE.evaluate(req)
    return err.value


# --- requests ----------------------------------------------------------------------------------------------


def test_unknown_member() -> None:
    err = refused(UnknownMember, request(to=RecognisingMember(id="uni-x.ac.uk", framework="uk-fheq")))
    assert (err.field, err.expected) == ("$.recogniser.id", "the id of a consortium member")
    assert err.status == 400


def test_recogniser_named_with_another_framework() -> None:
    err = refused(InvalidRequest, request(to=RecognisingMember(id=B, framework="scqf")))
    assert (err.field, err.expected) == ("$.recogniser.framework", "uk-fheq")


def test_unknown_framework_of_the_recogniser_and_of_a_record() -> None:
    engine = RecognitionEngine([agreement()])  # no member directory: only the registry can refuse
    with pytest.raises(UnknownFramework) as err:
        engine.evaluate(request(to=RecognisingMember(id=B, framework="aqf")))
    assert err.value.field == "$.recogniser.framework"
    assert err.value.expected is not None
    assert "uk-fheq" in err.value.expected
    bad = record(framework="ects")
    bad = msgspec.structs.replace(
        bad,
        credential=msgspec.structs.replace(
            bad.credential, workload=CreditValue(amount=5, unit="aqf-hours", framework="aqf")
        ),
    )
    err2 = refused(UnknownFramework, request(record(), bad))
    assert err2.field == "$.credentials[1].credential.workload.framework"
    assert err2.expected is not None
    assert err2.expected.startswith("one of: ")


def test_credential_missing_a_mandatory_element_when_decoded() -> None:
    data = msgspec.to_builtins(record())
    del data["credential"]["workload"]
    with pytest.raises(InvalidCredentialRecord) as err:
        decode_credential(data)
    assert err.value.field == "$.credential.workload"
    assert err.value.expected == "a value for workload (Annex I element 7, notional workload)"
    assert err.value.credential == f"{A}:r1"
    data = msgspec.to_builtins(record())
    del data["issued_on"]
    with pytest.raises(InvalidCredentialRecord) as err:
        decode_credential(msgspec.json.encode(data))
    assert err.value.field == "$.issued_on"
    assert err.value.expected == "a value for issued_on (Annex I element 5, date of issuing)"


@pytest.mark.parametrize(
    ("change", "field", "expected"),
    [
        (
            {"learning_outcomes": []},
            "$.credentials[0].credential.learning_outcomes",
            "a value for learning_outcomes (Annex I element 6, learning outcomes)",
        ),
        (
            {"title": "   "},
            "$.credentials[0].credential.title",
            "a value for title (Annex I element 2, title)",
        ),
        (
            {"assessment": []},
            "$.credentials[0].credential.assessment",
            "a value for assessment (Annex I element 9, type of assessment)",
        ),
        (
            {"workload": CreditValue(amount=20, unit="ects", framework="uk-fheq")},
            "$.credentials[0].credential.workload.unit",
            "uk-credit",
        ),
        ({"workload": credits(0)}, "$.credentials[0].credential.workload.amount", "more than 0"),
    ],
)
def test_credential_missing_or_malformed_elements(change: dict[str, Any], field: str, expected: str) -> None:
    bad = record()
    bad = msgspec.structs.replace(bad, credential=msgspec.structs.replace(bad.credential, **change))
    err = refused(InvalidCredentialRecord, request(bad))
    assert (err.field, err.expected) == (field, expected)


def test_unknown_level_of_a_record() -> None:
    err = refused(UnknownLevel, request(record(level=("uk-fheq", "9"))))
    assert err.field == "$.credentials[0].credential.level.code"
    assert err.expected is not None
    assert err.expected.startswith("one of: 4, 5, 6, 7, 8")


def test_issued_after_the_evaluation_date_and_duplicates() -> None:
    err = refused(InvalidCredentialRecord, request(record(issued_on=TODAY + dt.timedelta(days=1))))
    assert (err.field, err.expected) == ("$.credentials[0].issued_on", "a date on or before 2026-09-01")
    err = refused(InvalidCredentialRecord, request(record(), record()))
    assert err.field == "$.credentials[1].id"


def test_one_basis_per_decision() -> None:
    convention = record("r1")
    convention = msgspec.structs.replace(
        convention,
        credential=msgspec.structs.replace(
            convention.credential,
            workload=CreditValue(
                amount=20, unit="uk-credit", framework="uk-fheq", ects=10, ects_basis="convention"
            ),
        ),
    )
    hours = msgspec.structs.replace(
        convention,
        id=f"{A}:r2",
        credential=msgspec.structs.replace(
            convention.credential,
            workload=CreditValue(
                amount=20, unit="uk-credit", framework="uk-fheq", ects=7, ects_basis="hours"
            ),
        ),
    )
    err = refused(MixedConversionBasis, request(convention, hours))
    assert (err.field, err.expected) == ("$.credentials[1].credential.workload.ects_basis", "convention")
    err = refused(MixedConversionBasis, request(convention, basis="hours"))
    assert (err.field, err.expected) == ("$.credentials[0].credential.workload.ects_basis", "hours")
    assert ENGINE.validate(request(convention)) == "convention"
    assert ENGINE.validate(request(record())) == "convention"


# --- agreements and equivalences ----------------------------------------------------------------------------


def test_overlapping_agreement_versions() -> None:
    v1, v2 = agreement(version=1), agreement(version=2, valid_from=dt.date(2026, 1, 1))
    with pytest.raises(OverlappingAgreementVersions) as err:
        RecognitionEngine([v1, v2])
    assert err.value.field == "$.agreements[1].valid_from"
    assert err.value.expected == "a date after A1@1 ends, or an end date on A1@1"
    assert (err.value.agreement, err.value.versions) == ("A1", (1, 2))
    assert (err.value.status, err.value.type_uri()) == (
        409,
        "urn:consortium-gateway:problem:overlapping-agreement-versions",
    )
    # Adjacent periods, drafts and withdrawn versions do not overlap.
    RecognitionEngine([msgspec.structs.replace(v1, valid_to=dt.date(2025, 12, 31)), v2])
    RecognitionEngine([v1, msgspec.structs.replace(v2, status="draft")])
    RecognitionEngine([msgspec.structs.replace(v1, status="withdrawn"), v2])


def test_overlap_is_found_behind_a_longer_version() -> None:
    long = agreement(version=1, valid_to=dt.date(2030, 1, 1))
    short = agreement(version=2, valid_from=dt.date(2025, 6, 1), valid_to=dt.date(2025, 7, 1))
    later = agreement(version=3, valid_from=dt.date(2026, 1, 1), valid_to=dt.date(2026, 2, 1))
    with pytest.raises(OverlappingAgreementVersions) as err:
        RecognitionEngine([long, later, short])
    assert err.value.versions == (1, 2)


def test_overlapping_equivalence_versions() -> None:
    with pytest.raises(OverlappingAgreementVersions) as err:
        RecognitionEngine([], [equivalence(), equivalence(version=2, valid_from=dt.date(2026, 1, 1))])
    assert err.value.field == "$.equivalences[1].valid_from"


@pytest.mark.parametrize(
    ("changes", "error", "field", "expected"),
    [
        (
            {"version": 1},
            InvalidAgreement,
            "$.agreements[1].version",
            "one entry per version (first at $.agreements[0])",
        ),
        (
            {"valid_to": dt.date(2024, 12, 31)},
            InvalidAgreement,
            "$.agreements[1].valid_to",
            "a date on or after valid_from (2025-01-01)",
        ),
        (
            {"parties": Bilateral(members=(A, A))},
            InvalidAgreement,
            "$.agreements[1].parties.members",
            "two different member ids",
        ),
        (
            {"parties": Bilateral(members=(A, "uni-x.ac.uk"))},
            UnknownMember,
            "$.agreements[1].parties.members[1]",
            "the id of a consortium member",
        ),
        (
            {"scope": AgreementScope(levels=(LevelRef(framework="scqf", code="13"),))},
            UnknownLevel,
            "$.agreements[1].scope.levels[0].code",
            None,
        ),
        (
            {"grant": ModuleGrant(modules=(module(), module(framework="ects", amount=5, level="9")))},
            UnknownLevel,
            "$.agreements[1].grant.modules[1].level",
            None,
        ),
        (
            {
                "grant": BlockCreditGrant(
                    award=AwardRef(framework="uk-fheq", id="mba"),
                    credits=credits(20),
                    level=LevelRef(framework="uk-fheq", code="7"),
                )
            },
            InvalidAgreement,
            "$.agreements[1].grant.award.id",
            None,
        ),
        (
            {
                "conditions": AgreementConditions(
                    min_grade=FrameworkGradeMinimum(
                        framework="uk-fheq", scheme="uk-honours", value="distinction"
                    )
                )
            },
            UnknownGrade,
            "$.agreements[1].conditions.min_grade.value",
            None,
        ),
    ],
)
def test_invalid_agreements(
    changes: dict[str, Any], error: type[GatewayError], field: str, expected: str | None
) -> None:
    bad = msgspec.structs.replace(agreement("A2", version=2), **changes)
    with pytest.raises(error) as err:
        RecognitionEngine([agreement("A2"), bad], members=MEMBERS)
    assert err.value.field == field
    if expected is not None:
        assert err.value.expected == expected
    else:
        assert err.value.expected  # the valid values are listed


def test_invalid_equivalences() -> None:
    with pytest.raises(InvalidAgreement) as err:
        RecognitionEngine([], [equivalence(recogniser_id=A)])
    assert (err.value.field, err.value.agreement) == ("$.equivalences[0].recogniser", "E1@1")
    wrong_unit = module()
    wrong_unit = msgspec.structs.replace(
        wrong_unit, credits=CreditValue(amount=5, unit="ects", framework="uk-fheq")
    )
    with pytest.raises(InvalidAgreement) as err:
        RecognitionEngine([], [equivalence(modules=(wrong_unit,))])
    assert (err.value.field, err.value.expected) == ("$.equivalences[0].modules[0].credits.unit", "uk-credit")
    with pytest.raises(UnknownMember) as err2:
        RecognitionEngine([], [equivalence(issuer=S, recogniser_id="uni-x.ac.uk")], members=MEMBERS)
    assert err2.value.field == "$.equivalences[0].recogniser"


def test_decoded_agreements_name_the_wire_path() -> None:
    raw = msgspec.to_builtins(agreement())
    raw["grant"] = {"kind": "voucher"}
    with pytest.raises(msgspec.ValidationError, match=r"\$\.grant"):
        msgspec.convert(raw, type(agreement()))
    raw = msgspec.to_builtins(record())
    raw["credential"]["stackability"] = msgspec.to_builtins(Stackability(kind="stackable")) | {"kind": "both"}
    with pytest.raises(InvalidCredentialRecord) as err:
        decode_credential(raw)
    assert err.value.field == "$.credential.stackability.kind"
