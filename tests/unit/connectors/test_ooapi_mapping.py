"""OOAPI v6 -> contracts mapping, on objects from the sandbox generator and the OOAPI v6 document."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

from adapters.connectors.ooapi.mapping import (
    MappingContext,
    Unmappable,
    is_awarded,
    map_course,
    map_credential,
    map_grade,
    map_level,
    map_participation,
    map_workload,
    pick_text,
)
from adapters.connectors.ooapi.schema import (
    Association,
    Course,
    LanguageTypedString,
    Offering,
    StudyLoadDescriptor,
)
from adapters.connectors.sandbox import SandboxData, SharedLearner, esi_urn
from adapters.connectors.sandbox import ooapi as render
from adapters.frameworks import Converter, reference_registry
from contracts.credentials import AwardingBody, CredentialRecord

OOAPI_DOC = Path(__file__).resolve().parents[3] / ".." / "shared" / "fixtures" / "ooapi-v6" / "ooapiv6.json"
REGISTRY = reference_registry()
CONVERTER = Converter(REGISTRY)
FETCHED = dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.UTC)
ESI = esi_urn("uni-a.ac.uk", "4711")


def wire(value: Any, type_: type[Any]) -> Any:
    """``value`` through JSON, as the connector receives it."""
    return msgspec.json.decode(msgspec.json.encode(value), type=type_)


def context(member: str, framework: str) -> MappingContext:
    return MappingContext(
        member_id=member,
        framework=REGISTRY.get(framework),
        converter=CONVERTER,
        awarding_body=AwardingBody(name=f"Member {member}", country="GB", member=member),
    )


def generated(member: str, framework: str) -> SandboxData:
    learner = SharedLearner(esi=ESI, given_name="Sam", surname="Okafor", passed=3)
    return SandboxData.generate(member, framework, 3, learners=10, courses=6, shared=(learner,))


@pytest.mark.parametrize(
    ("member", "framework", "ects_per_unit"),
    [("uni-a.ac.uk", "uk-fheq", 0.5), ("uni-b.ac.uk", "scqf", 0.5), ("college-c.edu", "us-semester", 2.0)],
)
def test_generated_awards_map(member: str, framework: str, ects_per_unit: float) -> None:
    data = generated(member, framework)
    ctx = context(member, framework)
    mapped = 0
    for association in data.associations:
        course = data.course(association.course_id)
        offering = data.offering(association.offering_id)
        assert course is not None
        assert offering is not None
        ooapi_course = wire(render.course_json(data, course), Course)
        ooapi_association = wire(render.association_json(data, association), Association)
        assert wire(render.offering_json(data, offering), Offering).course_id == course.course_id
        if not association.passed:
            assert not is_awarded(ooapi_association)
            with pytest.raises(Unmappable) as skipped:
                map_credential(ooapi_course, ooapi_association, ctx, fetched_at=FETCHED)
            assert skipped.value.reason == "not-awarded"
            continue
        record = map_credential(ooapi_course, ooapi_association, ctx, fetched_at=FETCHED, esi=ESI)
        mapped += 1
        assert isinstance(record, CredentialRecord)
        assert record.id == association.association_id
        assert [i.scheme for i in record.learner.identifiers] == ["esi", "local"]
        assert record.learner.identifiers[1].value == association.person_id
        workload = record.credential.workload
        assert (workload.amount, workload.framework) == (course.study_load, framework)
        assert workload.ects == pytest.approx(course.study_load * ects_per_unit)
        assert workload.ects_basis == "convention"
        level = REGISTRY.get(framework).level(course.level_code)
        assert record.credential.level is not None
        assert (record.credential.level.code, record.credential.level.eqf) == (level.code, level.eqf)
        assert record.grade is not None
        assert (record.grade.value, record.grade.scheme) == (association.grade, data.grading_scheme)
        assert record.issued_on == association.result_date.date()
        assert record.provenance.fetched_at == FETCHED
        assert record.credential.learning_outcomes == [text for _, text in course.outcomes]
        assert record.credential.title == course.title
        assert record.credential.language == "en-GB"
    assert mapped >= 3


def _course(**changes: Any) -> Course:
    data = generated("uni-a.ac.uk", "uk-fheq")
    body = render.course_json(data, data.courses[0])
    body.update(changes)
    course: Course = wire(body, Course)
    return course


def test_unmappable_courses_give_reasons() -> None:
    ctx = context("uni-a.ac.uk", "uk-fheq")
    cases: dict[str, dict[str, Any]] = {
        "workload": {"studyLoad": [{"studyLoadUnit": "hour", "value": 40}]},
        "learning-outcomes": {"learningOutcomes": []},
        "participation": {"modesOfDelivery": ["project_based"]},
        "level": {"level": "x-uk-fheq-99"},
        "title": {"name": [{"language": "en", "value": "  "}]},
    }
    for reason, change in cases.items():
        with pytest.raises(Unmappable) as caught:
            map_course(_course(**change), ctx)
        assert caught.value.reason == reason


def test_contract_violations_are_caught() -> None:
    data = generated("uni-a.ac.uk", "uk-fheq")
    association = next(a for a in data.associations if a.passed)
    course = _course(name=[{"language": "en", "value": "x" * 400}])
    body = render.association_json(data, association)
    with pytest.raises(Unmappable) as caught:
        map_credential(course, wire(body, Association), context("uni-a.ac.uk", "uk-fheq"), fetched_at=FETCHED)
    assert caught.value.reason == "contract"


def test_a_context_breaking_its_contract_is_refused_when_made() -> None:
    """The ids every record carries from the context (issuer, the learner's and the provenance's member,
    the connector) are checked once, when the context is made, not in every record."""
    ctx = context("uni-a.ac.uk", "uk-fheq")
    for member, connector in (("Not A Domain", "ooapi"), ("uni-a.ac.uk", "OOAPI v6")):
        with pytest.raises(ValueError, match="member" if member != "uni-a.ac.uk" else "connector"):
            MappingContext(
                member_id=member,
                framework=ctx.framework,
                converter=ctx.converter,
                awarding_body=ctx.awarding_body,
                connector_id=connector,
            )


def test_an_esi_breaking_its_contract_is_caught() -> None:
    data = generated("uni-a.ac.uk", "uk-fheq")
    association = next(a for a in data.associations if a.passed)
    sandbox_course = data.course(association.course_id)
    assert sandbox_course is not None
    course = wire(render.course_json(data, sandbox_course), Course)
    awarded = wire(render.association_json(data, association), Association)
    ctx = context("uni-a.ac.uk", "uk-fheq")
    with pytest.raises(Unmappable) as caught:
        map_credential(course, awarded, ctx, fetched_at=FETCHED, esi="urn:schac:personalUniqueCode:x")
    assert caught.value.reason == "contract"


def test_grades_are_kept_per_score() -> None:
    ctx = context("uni-a.ac.uk", "uk-fheq")
    first = ctx.passing_grade("65")
    assert first is not None
    assert first.value == "65"
    assert ctx.passing_grade("65") is first
    assert ctx.passing_grade(None) is None
    with pytest.raises(Unmappable) as caught:
        ctx.passing_grade("not a grade")
    assert caught.value.reason == "grade"


def test_workload_units() -> None:
    fheq = REGISTRY.get("uk-fheq")
    own = map_workload([StudyLoadDescriptor(study_load_unit="x-uk-credit", value=20)], fheq, CONVERTER)
    assert (own.amount, own.unit, own.ects) == (20, "uk-credit", 10)
    bare = map_workload([StudyLoadDescriptor(study_load_unit="uk-credit", value=20)], fheq, CONVERTER)
    assert bare == own
    ects = map_workload([StudyLoadDescriptor(study_load_unit="ects", value=5)], fheq, CONVERTER)
    assert (ects.framework, ects.unit, ects.ects, ects.ects_basis) == ("ects", "ects", 5, "convention")
    both = [
        StudyLoadDescriptor(study_load_unit="ects", value=5),
        StudyLoadDescriptor(study_load_unit="x-uk-credit", value=10),
    ]
    assert map_workload(both, fheq, CONVERTER).unit == "uk-credit"  # the member's own unit wins


def test_levels() -> None:
    fheq, scqf, us, ects = (REGISTRY.get(f) for f in ("uk-fheq", "scqf", "us-semester", "ects"))
    level = map_level("x-uk-fheq-6", fheq)
    assert level is not None
    assert (level.code, level.eqf) == ("6", 6)
    assert map_level("x-scqf-11", scqf) is not None
    master = map_level("master", us)
    assert master is not None
    assert (master.code, master.eqf) == ("master", None)
    eqf7 = map_level("master", ects)
    assert eqf7 is not None
    assert (eqf7.code, eqf7.eqf) == ("7", 7)
    assert map_level("bachelor", fheq) is None  # FHEQ 6 and RQF 6 both sit at EQF 6: never guessed
    assert map_level("x-scqf-9", fheq) is None  # another framework's level
    assert map_level("undefined", fheq) is None
    assert map_level(None, fheq) is None


def test_grades() -> None:
    fheq, us = REGISTRY.get("uk-fheq"), REGISTRY.get("us-semester")
    grade = map_grade("65", True, fheq)
    assert grade is not None
    assert (grade.scheme, grade.passed, grade.normalised) == ("uk-marks", True, 0.65)
    assert map_grade(None, True, fheq) is None
    with pytest.raises(Unmappable, match="pass state"):
        map_grade("12", True, fheq)
    with pytest.raises(Unmappable, match="not a grade"):
        map_grade("Z", True, us)


def test_participation_and_text() -> None:
    assert map_participation(["presential", "online", "coil", "hybrid"]) == ["onsite", "online", "blended"]
    texts = [
        LanguageTypedString(language="nl-NL", value="Hallo"),
        LanguageTypedString(language="en-US", value="Hello"),
    ]
    assert pick_text(texts, "nl") == "Hallo"
    assert pick_text(texts, "de") == "Hello"
    assert pick_text([LanguageTypedString(language="fr", value="Salut")], "de") == "Salut"
    assert pick_text([], "en") is None


def _schema_example(doc: dict[str, Any], name: str, field: str | None = None) -> Any:
    schema = doc["components"]["schemas"][name]
    if field is None:
        return schema["example"]
    prop = schema["properties"][field]
    return prop.get("example", prop.get("items", {}).get("example"))


def test_ooapi_document_examples() -> None:
    if not OOAPI_DOC.is_file():
        pytest.skip("the vendored OOAPI v6 document (shared/fixtures/ooapi-v6/ooapiv6.json) is not present")
    doc = json.loads(OOAPI_DOC.read_text(encoding="utf-8"))
    course = {
        "courseId": _schema_example(doc, "CourseId", "courseId"),
        "primaryCode": _schema_example(doc, "IdentifierEntry"),
        "name": _schema_example(doc, "CourseProperties", "name"),
        "description": _schema_example(doc, "CourseProperties", "description"),
        "studyLoad": [_schema_example(doc, "StudyLoadDescriptor")],
        "modesOfDelivery": [_schema_example(doc, "modeOfDelivery")],
        "teachingLanguages": [_schema_example(doc, "Language")],
        "fieldsOfStudy": _schema_example(doc, "CourseProperties", "fieldsOfStudy"),
        "learningOutcomes": [
            {
                "learningOutcomeId": _schema_example(doc, "LearningOutcome", "learningOutcomeId"),
                "primaryCode": _schema_example(doc, "LearningOutcome", "primaryCode"),
                "name": _schema_example(doc, "LearningOutcome", "name"),
            }
        ],
        "level": _schema_example(doc, "level"),
        "duration": "P1DT10H30M",  # an unknown field to us: ignored
    }
    credential = map_course(wire(course, Course), context("uni-a.ac.uk", "ects"))
    assert credential.title == "Academic and Professional Writing"
    assert (credential.workload.amount, credential.workload.ects) == (3, 3)
    assert credential.level is not None
    assert (credential.level.code, credential.level.eqf) == ("7", 7)  # "master" is EQF 7 in ECTS
    assert credential.participation == ["blended"]
    assert (credential.field_of_study, credential.language) == ("0732", "en-GB")
    result = {
        "state": "completed",
        "pass": _schema_example(doc, "passState"),
        "score": _schema_example(doc, "Result", "score"),
        "resultDateTime": _schema_example(doc, "Result", "resultDateTime"),
        "studyLoad": _schema_example(doc, "StudyLoadDescriptor"),
    }
    association = {
        "associationId": _schema_example(doc, "AssociationId", "associationId"),
        "role": "student",
        "personId": "p-1",
        "courseOfferingId": "o-1",
        "result": result,
    }
    ctx = context("uni-a.ac.uk", "ects")
    # The example score "9" is a Dutch 1-10 mark, not an ECTS letter grade: skipped, not guessed.
    with pytest.raises(Unmappable) as caught:
        map_credential(wire(course, Course), wire(association, Association), ctx, fetched_at=FETCHED)
    assert caught.value.reason == "grade"
    result["score"] = None
    record = map_credential(wire(course, Course), wire(association, Association), ctx, fetched_at=FETCHED)
    assert record.issued_on == dt.date(2025, 11, 28)
    assert record.grade is None


def test_schema_rejects_wrong_types_but_ignores_unknown_fields() -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(b'{"courseId": 7}', type=Course)
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(
            b'{"courseId": "c", "studyLoad": [{"studyLoadUnit": "ects", "value": -1}]}', type=Course
        )
    course = msgspec.json.decode(b'{"courseId": "c", "vendorField": {"deep": [1, 2]}}', type=Course)
    assert course.course_id == "c"
