"""Canonical records as Open Badges 3.0 credentials: concrete values, data minimisation, the official schema.

The schema is the vendored draft-4 copy in shared/fixtures/openbadges-v3 (``SHARED`` in tests/conftest.py).
That copy predates OB 3.0's move to the VC Data Model 2.0: it still requires VCDM 1.1's ``issuanceDate``
and rejects 1EdTech's own ``valid/complete.json``. ``_for_vcdm2`` applies the VCDM 2.0 renames to it and
nothing else; ``test_vendored_schema_still_speaks_vcdm_1_1`` pins that drift, so that a newer fixture
tells us to drop the adaptation.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft4Validator

from contracts.credentials import (
    AwardingBody,
    CredentialRecord,
    LearnerIdentifier,
    LearnerRef,
    MicroCredential,
    Provenance,
    QualityAssurance,
)
from contracts.credits import CreditValue, Grade, Level
from gateway.lookup.openbadges import (
    CREDIT_AND_LEVEL_CARRIAGE,
    TARGET_TYPE_CREDITS,
    TARGET_TYPE_ECTS,
    TARGET_TYPE_EQF_LEVEL,
    TARGET_TYPE_FRAMEWORK_LEVEL,
    to_open_badge,
)

REPO = Path(__file__).resolve().parents[3]
FIXTURES = REPO.parent / "shared" / "fixtures" / "openbadges-v3"
SCHEMA_FILE = FIXTURES / "ob_v3p0_achievementcredential_schema_draft4.json"
DEMO_CREDENTIALS = REPO / "deploy" / "demo" / "credentials"
needs_schema = pytest.mark.skipif(
    not SCHEMA_FILE.is_file(),
    reason="OB 3.0 schema fixtures not found: shared/fixtures/openbadges-v3 is not beside the repository",
)

GATEWAY = "https://gateway.consortium.example"
ESI = "urn:schac:personalUniqueCode:int:esi:uni-a.ac.uk:a311"
SOURCE_ID = "results/311-internal"
# VCDM 2.0 / OB 3.0 DateTimeZ; the draft-4 "date-time" format is not checked without extra packages.
DATE_TIME_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
OB_CONTEXT = re.compile(r"^https://purl\.imsglobal\.org/spec/ob/v3p0/context(-3\.\d\.\d)*\.json$")
PERSONAL = {"givenName", "familyName", "additionalName", "patronymicName", "dateOfBirth", "email", "name"}


def record(
    rid: str = "uni-a.ac.uk:award-2026-0311",
    *,
    issuer: str = "uni-a.ac.uk",
    workload: CreditValue | None = None,
    level: Level | None = None,
    grade: Grade | None = None,
    identifiers: list[LearnerIdentifier] | None = None,
    body: AwardingBody | None = None,
    issued_on: dt.date = dt.date(2026, 5, 20),
    valid_until: dt.date | None = None,
    language: str | None = "en",
    field: str | None = "0613",
) -> CredentialRecord:
    """A record as a member's registry would give it, checked against the contract's constraints."""
    built = CredentialRecord(
        id=rid,
        learner=LearnerRef(
            identifiers=identifiers
            or [
                LearnerIdentifier(scheme="esi", value=ESI),
                LearnerIdentifier(scheme="local", value="s1234567", member=issuer),
            ]
        ),
        credential=MicroCredential(
            id=f"{issuer}:DATA7030",
            title="Data Visualisation and Storytelling",
            awarding_body=body or AwardingBody(name="University of Avalon", country="GB", member=issuer),
            learning_outcomes=["Choose a visual encoding for a question", "Critique a published chart"],
            workload=workload
            or CreditValue(
                amount=20, unit="uk-credit", framework="uk-fheq", ects=10, ects_basis="convention"
            ),
            assessment=["portfolio", "project"],
            participation=["online"],
            quality_assurance=QualityAssurance(type="internal", body="QAA"),
            level=level,
            supervision="supervised_with_id_check",
            field_of_study=field,
            language=language,
        ),
        issuer=issuer,
        issued_on=issued_on,
        provenance=Provenance(
            member=issuer,
            connector="ooapi",
            source_id=SOURCE_ID,
            fetched_at=dt.datetime(2026, 11, 1, 9, tzinfo=dt.UTC),
        ),
        grade=grade,
        valid_until=valid_until,
    )
    return msgspec.json.decode(msgspec.json.encode(built), type=CredentialRecord)


FHEQ_7 = Level(framework="uk-fheq", code="7", eqf=7, qf_ehea_cycle="second")
CASES: dict[str, CredentialRecord] = {
    "fheq-graded-ects": record(level=FHEQ_7, grade=Grade(framework="uk-fheq", scheme="uk-marks", value="65")),
    "scqf-level-without-eqf": record(
        "uni-s.ac.uk:2026-77",
        issuer="uni-s.ac.uk",
        workload=CreditValue(amount=20, unit="scqf-credit", framework="scqf"),
        level=Level(framework="scqf", code="10"),
        body=AwardingBody(name="University of Caledonia", country="GB", region="Scotland"),
        valid_until=dt.date(2029, 6, 30),
    ),
    "ects-native-no-level": record(
        "uni-e.eu:ML-5",
        issuer="uni-e.eu",
        workload=CreditValue(amount=5, unit="ects", framework="ects"),
        grade=Grade(framework="ects", scheme="ects-letter", value="B", passed=True),
        identifiers=[LearnerIdentifier(scheme="pseudonym", value="p-9f3a7c")],
        body=AwardingBody(name="Universität Rheinland", country="DE", url="https://uni-e.eu"),
        language="de",
        field=None,
    ),
    "us-hours-partner-award": record(
        "college-u.edu:CS-101/2026",
        issuer="college-u.edu",
        workload=CreditValue(
            amount=3, unit="us-sch", framework="us-semester", ects=6, ects_basis="hours", notional_hours=135
        ),
        level=Level(framework="us-semester", code="lower-division", eqf=5, qf_ehea_cycle="short"),
        grade=Grade(framework="us-semester", scheme="us-letter", value="A-", passed=True, normalised=0.925),
        identifiers=[
            LearnerIdentifier(scheme="local", value="900123", member="college-u.edu"),
            LearnerIdentifier(scheme="local", value="s-77", member="uni-a.ac.uk"),
        ],
        body=AwardingBody(name="University of Avalon", country="GB", member="uni-a.ac.uk"),
        language=None,
    ),
    "nzqf-failed-fractional": record(
        "uni-n.ac.nz:7.5-credit",
        issuer="uni-n.ac.nz",
        workload=CreditValue(amount=7.5, unit="nz-credit", framework="nzqf"),
        level=Level(framework="nzqf", code="5", eqf=5),
        grade=Grade(framework="nzqf", scheme="pass-fail", value="fail", passed=False),
        body=AwardingBody(name="Polytechnic of Aotearoa", country="NZ"),
    ),
    "pass-without-verdict": record(grade=Grade(framework="uk-fheq", scheme="pass-fail", value="pass")),
}


def badge(rec: CredentialRecord, **kwargs: Any) -> dict[str, Any]:
    return to_open_badge(rec, gateway_issuer=GATEWAY, **kwargs)


def aligned(credential: dict[str, Any], target_type: str) -> list[dict[str, Any]]:
    alignment = credential["credentialSubject"]["achievement"]["alignment"]
    return [entry for entry in alignment if entry["targetType"] == target_type]


def walk(value: Any) -> Iterator[tuple[str, Any]]:
    """Every (key, value) pair at any depth."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield key, inner
            yield from walk(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from walk(inner)


def assert_ob_types(credential: dict[str, Any]) -> None:
    """The OB 3.0 ``type`` and ``@context`` rules, which the JSON Schema leaves as plain strings."""
    context = credential["@context"]
    assert context[0] == "https://www.w3.org/ns/credentials/v2"
    assert OB_CONTEXT.match(context[1])
    assert {"VerifiableCredential", "OpenBadgeCredential"} <= set(credential["type"])
    assert "proof" not in credential
    assert DATE_TIME_Z.match(credential["validFrom"])
    assert "validUntil" not in credential or DATE_TIME_Z.match(credential["validUntil"])
    assert "Profile" in credential["issuer"]["type"]
    subject = credential["credentialSubject"]
    assert "AchievementSubject" in subject["type"]
    assert subject["identifier"], "AchievementSubject needs an id or at least one identifier"
    assert all(i["type"] == "IdentityObject" for i in subject["identifier"])
    achievement = subject["achievement"]
    assert "Achievement" in achievement["type"]
    assert all("Alignment" in a["type"] for a in achievement["alignment"])
    described = {d["id"] for d in achievement.get("resultDescription", [])}
    assert all(r["resultDescription"] in described for r in subject.get("result", []))


# --- concrete values -------------------------------------------------------------------------------------


def test_credits_and_levels_are_carried_explicitly() -> None:
    credential = badge(CASES["fheq-graded-ects"])
    achievement = credential["credentialSubject"]["achievement"]

    assert achievement["creditsAvailable"] == 20
    assert credential["credentialSubject"]["creditsEarned"] == 20
    assert [a["targetType"] for a in achievement["alignment"]] == [
        TARGET_TYPE_CREDITS,
        TARGET_TYPE_ECTS,
        TARGET_TYPE_FRAMEWORK_LEVEL,
        TARGET_TYPE_EQF_LEVEL,
    ]
    (native,) = aligned(credential, TARGET_TYPE_CREDITS)
    assert (native["targetCode"], native["targetName"], native["targetFramework"]) == (
        "20",
        "20 uk-credit",
        "uk-fheq",
    )
    assert native["targetUrl"] == f"{GATEWAY}/v1/frameworks/uk-fheq"
    (ects,) = aligned(credential, TARGET_TYPE_ECTS)
    assert (ects["targetCode"], ects["targetFramework"]) == ("10", "ECTS")
    assert "convention" in ects["targetDescription"]
    (level,) = aligned(credential, TARGET_TYPE_FRAMEWORK_LEVEL)
    assert (level["targetCode"], level["targetFramework"]) == ("7", "uk-fheq")
    assert "QF-EHEA second cycle" in level["targetDescription"]
    (eqf,) = aligned(credential, TARGET_TYPE_EQF_LEVEL)
    assert (eqf["targetCode"], eqf["targetUrl"]) == ("7", "http://data.europa.eu/snb/eqf/7")


def test_the_rest_of_the_achievement() -> None:
    credential = badge(CASES["fheq-graded-ects"])
    achievement = credential["credentialSubject"]["achievement"]

    assert credential["name"] == achievement["name"] == "Data Visualisation and Storytelling"
    assert achievement["achievementType"] == "MicroCredential"
    assert achievement["id"] == "urn:consortium-gateway:achievement:uni-a.ac.uk:uni-a.ac.uk%3ADATA7030"
    assert "- Critique a published chart" in achievement["description"]
    assert "Assessment: portfolio, project." in achievement["criteria"]["narrative"]
    assert "supervised with id check" in achievement["criteria"]["narrative"]
    assert (achievement["fieldOfStudy"], achievement["inLanguage"]) == ("ISCED-F 0613", "en")
    assert credential["validFrom"] == credential["awardedDate"] == "2026-05-20T00:00:00Z"
    assert "validUntil" not in credential
    assert credential["issuer"] == {
        "id": "https://uni-a.ac.uk",
        "type": ["Profile"],
        "otherIdentifier": [
            {"type": "IdentifierEntry", "identifier": "uni-a.ac.uk", "identifierType": "ext:SCHAC"}
        ],
        "name": "University of Avalon",
        "address": {"type": ["Address"], "addressCountryCode": "GB"},
    }
    assert "creator" not in achievement


def test_no_level_no_level_alignment_and_a_native_ects_value_is_not_doubled() -> None:
    credential = badge(CASES["ects-native-no-level"])

    assert [a["targetType"] for a in credential["credentialSubject"]["achievement"]["alignment"]] == [
        TARGET_TYPE_CREDITS
    ]
    (native,) = aligned(credential, TARGET_TYPE_CREDITS)
    assert (native["targetName"], native["targetFramework"]) == ("5 ects", "ects")
    assert "fieldOfStudy" not in credential["credentialSubject"]["achievement"]
    assert credential["issuer"]["url"] == "https://uni-e.eu"


def test_a_level_without_eqf_referencing_claims_no_eqf_level() -> None:
    credential = badge(CASES["scqf-level-without-eqf"])

    assert aligned(credential, TARGET_TYPE_EQF_LEVEL) == []
    (level,) = aligned(credential, TARGET_TYPE_FRAMEWORK_LEVEL)
    assert (level["targetCode"], level["targetFramework"]) == ("10", "scqf")
    assert "EQF" not in level["targetDescription"]
    # valid_until is the last valid day (the recognition engine compares ``on <= valid_until``).
    assert credential["validUntil"] == "2029-06-30T23:59:59Z"
    assert credential["issuer"]["address"] == {
        "type": ["Address"],
        "addressCountryCode": "GB",
        "addressRegion": "Scotland",
    }


def test_hours_based_ects_and_an_award_by_another_member() -> None:
    credential = badge(CASES["us-hours-partner-award"])
    achievement = credential["credentialSubject"]["achievement"]

    (ects,) = aligned(credential, TARGET_TYPE_ECTS)
    assert ects["targetCode"] == "6"
    assert "notional learning hours" in ects["targetDescription"]
    (native,) = aligned(credential, TARGET_TYPE_CREDITS)
    assert "135 notional hours" in native["targetDescription"]
    assert credential["issuer"]["id"] == "https://college-u.edu"
    assert "name" not in credential["issuer"]  # only the awarding body's name is known
    assert achievement["creator"]["id"] == "https://uni-a.ac.uk"
    assert achievement["creator"]["name"] == "University of Avalon"
    assert "inLanguage" not in achievement


@pytest.mark.parametrize(
    ("case", "result_type", "status", "earned"),
    [
        ("fheq-graded-ects", "Percent", None, 20),
        ("ects-native-no-level", "LetterGrade", "Completed", 5),
        ("nzqf-failed-fractional", "Status", "Failed", None),
        # Status needs Result.status; without a verdict the generic type is used instead.
        ("pass-without-verdict", "Result", None, 20),
    ],
)
def test_grades(case: str, result_type: str, status: str | None, earned: float | None) -> None:
    rec = CASES[case]
    assert rec.grade is not None
    subject = badge(rec)["credentialSubject"]

    (result,) = subject["result"]
    (description,) = subject["achievement"]["resultDescription"]
    assert result["resultDescription"] == description["id"]
    assert (result["value"], description["resultType"]) == (rec.grade.value, result_type)
    assert result.get("status") == status
    assert subject.get("creditsEarned") == earned


def test_no_grade_no_result() -> None:
    subject = badge(CASES["scqf-level-without-eqf"])["credentialSubject"]

    assert "result" not in subject
    assert "resultDescription" not in subject["achievement"]
    assert subject["creditsEarned"] == 20


def test_fractional_credits_stay_numbers() -> None:
    credential = badge(CASES["nzqf-failed-fractional"])

    assert credential["credentialSubject"]["achievement"]["creditsAvailable"] == 7.5
    assert aligned(credential, TARGET_TYPE_CREDITS)[0]["targetCode"] == "7.5"


# --- identifiers and data minimisation -------------------------------------------------------------------


def test_learner_identifiers_in_plain_text_and_typed_by_scheme() -> None:
    subject = badge(CASES["fheq-graded-ects"])["credentialSubject"]
    assert subject["identifier"] == [
        {"type": "IdentityObject", "hashed": False, "identityHash": ESI, "identityType": "identifier"},
        {
            "type": "IdentityObject",
            "hashed": False,
            "identityHash": "s1234567",
            "identityType": "sisSourcedId",
        },
    ]
    assert "id" not in subject

    pseudonymous = badge(CASES["ects-native-no-level"])["credentialSubject"]["identifier"]
    assert [(i["identityHash"], i["identityType"]) for i in pseudonymous] == [("p-9f3a7c", "ext:Pseudonym")]

    # An id assigned by another member keeps that member, in the only place an IdentityObject allows.
    foreign = badge(CASES["us-hours-partner-award"])["credentialSubject"]["identifier"]
    assert [(i["identityHash"], i["identityType"]) for i in foreign] == [
        ("900123", "sisSourcedId"),
        ("s-77", "ext:sisSourcedId.uni-a.ac.uk"),
    ]


@pytest.mark.parametrize("case", sorted(CASES))
def test_no_personal_data_beyond_identifiers_and_no_provenance(case: str) -> None:
    credential = badge(CASES[case])
    subject = credential["credentialSubject"]

    outside_achievement = {k: v for k, v in subject.items() if k != "achievement"}
    assert not PERSONAL & {key for key, _ in walk(outside_achievement)}
    assert {"id", "type", "identifier", "achievement", "creditsEarned", "result"} >= subject.keys()
    encoded = json.dumps(credential)
    assert SOURCE_ID not in encoded
    assert "ooapi" not in encoded
    assert "2026-11-01" not in encoded  # fetched_at


# --- stability ------------------------------------------------------------------------------------------


def test_ids_are_stable_and_derived_from_issuer_and_record_id() -> None:
    rec = CASES["us-hours-partner-award"]
    credential = badge(rec)

    assert credential["id"] == "urn:consortium-gateway:credential:college-u.edu:college-u.edu%3ACS-101%2F2026"
    assert badge(rec) == credential
    assert to_open_badge(rec, gateway_issuer="https://elsewhere.example/gw/")["id"] == credential["id"]


def test_a_built_record_and_its_decoded_copy_give_the_same_credential() -> None:
    decoded = CASES["fheq-graded-ects"]
    workload = CreditValue(amount=20, unit="uk-credit", framework="uk-fheq", ects=10, ects_basis="convention")
    built = msgspec.structs.replace(
        decoded, credential=msgspec.structs.replace(decoded.credential, workload=workload)
    )

    assert isinstance(built.credential.workload.amount, int)
    assert isinstance(decoded.credential.workload.amount, float)
    assert json.dumps(badge(built), sort_keys=True) == json.dumps(badge(decoded), sort_keys=True)


def test_verification_is_not_written_into_the_credential() -> None:
    rec = CASES["fheq-graded-ects"]
    assert badge(rec, verification="verified") == badge(rec)


def test_gateway_issuer_must_be_a_url() -> None:
    with pytest.raises(ValueError, match="gateway_issuer"):
        to_open_badge(CASES["fheq-graded-ects"], gateway_issuer="gateway.consortium.example")


def test_carriage_note_fits_a_header_and_names_every_carrier() -> None:
    assert CREDIT_AND_LEVEL_CARRIAGE.isascii()
    assert "\n" not in CREDIT_AND_LEVEL_CARRIAGE
    assert "\r" not in CREDIT_AND_LEVEL_CARRIAGE
    for carrier in (
        "creditsAvailable",
        TARGET_TYPE_CREDITS,
        TARGET_TYPE_ECTS,
        TARGET_TYPE_FRAMEWORK_LEVEL,
        TARGET_TYPE_EQF_LEVEL,
    ):
        assert carrier in CREDIT_AND_LEVEL_CARRIAGE


# --- the official schema --------------------------------------------------------------------------------


def _for_vcdm2(schema: dict[str, Any]) -> dict[str, Any]:
    """The vendored schema with VCDM 2.0's renames (issuanceDate -> validFrom, expirationDate ->
    validUntil) and ``name``/``description`` on every credential (VCDM 2.0 "Names and Descriptions").

    Nothing else changes.
    """
    adapted = copy.deepcopy(schema)
    for node in (adapted, *adapted["$defs"].values()):
        properties = node.get("properties", {})
        if "issuanceDate" not in properties:
            continue
        properties["validFrom"] = properties.pop("issuanceDate")
        properties["validUntil"] = properties.pop("expirationDate")
        properties.setdefault("name", {"type": "string"})
        properties.setdefault("description", {"type": "string"})
        node["required"] = ["validFrom" if name == "issuanceDate" else name for name in node["required"]]
    return adapted


@functools.cache
def raw_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_FILE.read_text())
    Draft4Validator.check_schema(schema)
    return schema


@functools.cache
def validator() -> Draft4Validator:
    """Built once: the schema is 60 kB and Hypothesis calls the property test a hundred times."""
    return Draft4Validator(_for_vcdm2(raw_schema()))


def _fixture(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return document


def _errors(document: dict[str, Any], *, against: Draft4Validator | None = None) -> list[tuple[str, str]]:
    """(path, message) of every schema error, against the VCDM 2.0 reading unless told otherwise."""
    errors = (validator() if against is None else against).iter_errors(document)
    return sorted(("/".join(map(str, e.absolute_path)), e.message) for e in errors)


@needs_schema
def test_vendored_schema_still_speaks_vcdm_1_1() -> None:
    errors = _errors(_fixture("valid/complete.json"), against=Draft4Validator(raw_schema()))
    assert errors
    assert all("issuanceDate" in message or "validFrom" in message for _, message in errors), errors


@needs_schema
@pytest.mark.parametrize("name", ["valid/complete.json", "valid/simple.json"])
def test_the_validator_accepts_1edtech_valid_credentials(name: str) -> None:
    assert _errors(_fixture(name)) == []


@needs_schema
def test_the_validator_rejects_a_credential_without_issuer() -> None:
    # Most invalid/ files are wrong where a JSON Schema cannot look (proofs, type values, expiry);
    # this one is wrong in a required property.
    assert ("", "'issuer' is a required property") in _errors(_fixture("invalid/simple-err-issuer.json"))


@needs_schema
@pytest.mark.parametrize("case", sorted(CASES))
def test_every_case_is_a_valid_open_badge(case: str) -> None:
    credential = badge(CASES[case])

    assert _errors(credential) == []
    # Against the unadapted schema, the VCDM 1.1 date is the only complaint.
    raw = Draft4Validator(raw_schema())
    assert _errors(credential, against=raw) == [("", "'issuanceDate' is a required property")]
    assert_ob_types(credential)


_DELETE = object()


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A change to a credential: set, or with ``_DELETE`` remove, the value at a dotted path."""
    *parents, last = path.split(".")

    def change(credential: dict[str, Any]) -> None:
        node: Any = credential
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        if value is _DELETE:
            del node[last]
        else:
            node[last] = value

    return change


@needs_schema
@pytest.mark.parametrize(
    ("change", "where"),
    [
        (
            _set("credentialSubject.identifier.0.identityType", "studentId"),
            "credentialSubject/identifier/0/identityType",
        ),
        (_set("credentialSubject.identifier.0.hashed", "false"), "credentialSubject/identifier/0/hashed"),
        (_set("credentialSubject.identifier.0.givenName", "Sam"), "credentialSubject/identifier/0"),
        (_set("credentialSubject.givenName", "Sam"), "credentialSubject"),
        (
            _set("credentialSubject.achievement.achievementType", "Microcredential"),
            "credentialSubject/achievement/achievementType",
        ),
        (
            _set("credentialSubject.achievement.creditsAvailable", "20"),
            "credentialSubject/achievement/creditsAvailable",
        ),
        (_set("credentialSubject.achievement.criteria", _DELETE), "credentialSubject/achievement"),
        (
            _set("credentialSubject.achievement.alignment.0.targetUrl", _DELETE),
            "credentialSubject/achievement/alignment/0",
        ),
        (_set("issuer.address.country", "GB"), "issuer/address"),
        (_set("validFrom", _DELETE), ""),
    ],
)
def test_the_validator_rejects_broken_output(change: Callable[[dict[str, Any]], None], where: str) -> None:
    credential = badge(CASES["fheq-graded-ects"])
    change(credential)
    assert where in {path for path, _ in _errors(credential)}


@needs_schema
@pytest.mark.skipif(not DEMO_CREDENTIALS.is_dir(), reason="no demo credentials in this checkout")
def test_the_demo_credentials_are_valid_open_badges() -> None:
    files = sorted(DEMO_CREDENTIALS.glob("*.json"))
    assert files
    for path in files:
        rec = msgspec.json.decode(path.read_bytes(), type=CredentialRecord)
        credential = badge(rec)
        assert _errors(credential) == [], path.name
        assert_ob_types(credential)


# --- properties -----------------------------------------------------------------------------------------

_FRAMEWORKS = {
    "uk-fheq": "uk-credit",
    "scqf": "scqf-credit",
    "ects": "ects",
    "us-semester": "us-sch",
    "nzqf": "nz-credit",
}
_amounts = st.floats(min_value=0, max_value=1000, allow_nan=False, allow_infinity=False)


@st.composite
def records(draw: st.DrawFn) -> CredentialRecord:
    framework = draw(st.sampled_from(sorted(_FRAMEWORKS)))
    ects = draw(st.none() | _amounts)
    workload = CreditValue(
        amount=draw(_amounts),
        unit=_FRAMEWORKS[framework],
        framework=framework,
        ects=ects,
        ects_basis=None if ects is None else draw(st.sampled_from(["convention", "hours"])),
        notional_hours=draw(st.none() | _amounts),
    )
    level = draw(
        st.none()
        | st.builds(
            Level,
            framework=st.just(framework),
            code=st.sampled_from(["4", "7", "10", "SCQF 11", "lower-division"]),
            eqf=st.none() | st.integers(1, 8),
            qf_ehea_cycle=st.none() | st.sampled_from(["short", "first", "second", "third"]),
        )
    )
    grade = draw(
        st.none()
        | st.builds(
            Grade,
            framework=st.just(framework),
            scheme=st.sampled_from(["pass-fail", "uk-marks", "us-letter", "local-scale"]),
            value=st.text(min_size=1, max_size=10),
            passed=st.none() | st.booleans(),
        )
    )
    identifier = st.builds(
        LearnerIdentifier,
        scheme=st.sampled_from(["esi", "local", "pseudonym"]),
        value=st.text(min_size=1, max_size=40),
        member=st.none() | st.sampled_from(["uni-a.ac.uk", "uni-b.ac.uk"]),
    )
    issued = draw(st.dates(dt.date(2000, 1, 1), dt.date(2099, 12, 31)))
    return record(
        draw(st.text(min_size=1, max_size=60)),
        workload=workload,
        level=level,
        grade=grade,
        identifiers=draw(st.lists(identifier, min_size=1, max_size=4)),
        issued_on=issued,
        valid_until=draw(st.none() | st.dates(issued, dt.date(2099, 12, 31))),
        language=draw(st.none() | st.sampled_from(["en", "de", "en-GB"])),
    )


@needs_schema
@given(rec=records())
def test_any_record_gives_a_valid_deterministic_json_ready_badge(rec: CredentialRecord) -> None:
    credential = badge(rec)

    assert _errors(credential) == []
    assert_ob_types(credential)
    assert json.loads(json.dumps(credential)) == credential
    assert badge(rec) == credential
    assert (
        credential["credentialSubject"]["achievement"]["creditsAvailable"] == rec.credential.workload.amount
    )
    assert re.fullmatch(r"[A-Za-z0-9%._~:-]+", credential["id"])
    assert unquote(credential["id"].rsplit(":", 1)[1]) == rec.id
    eqf = aligned(credential, TARGET_TYPE_EQF_LEVEL)
    level = rec.credential.level
    assert [e["targetCode"] for e in eqf] == ([] if level is None or level.eqf is None else [str(level.eqf)])
