"""Pure mapping of OOAPI v6 objects onto the gateway's contracts (no I/O).

A ``Course`` (plus, for an award, its ``CourseOffering`` and the learner's ``CourseOfferingAssociation``
with its ``CourseOfferingAssociationResult``) becomes a ``MicroCredential`` / ``CredentialRecord`` in the
member's own credit framework. Rules (Annex I element numbers in brackets):

- workload [7]: the ``StudyLoadDescriptor`` in the framework's credit unit (``x-<unit>`` or the bare unit;
  the association's own ``studyLoad`` wins over the course's, then the result's), else an ``ects`` one
  (kept in the ``ects`` framework); normalised to ECTS by the ``Converter`` on the ``convention`` basis where
  the framework states one, else on the ``hours`` basis; left un-normalised if neither gives one number.
  Hour-only loads (``hour``, ``sbu``, ``contact_time``) are not mapped: they would mix bases.
- level [8]: ``x-<framework>-<code>`` is the framework's level (an unknown code skips the record); an OOAPI
  standard value (``bachelor``, ...) is the framework level of that code if there is one, else the single
  framework level at its EQF level (``associate_degree`` 5, ``bachelor`` 6, ``master`` 7, ``doctoral`` 8);
  otherwise no level (the element applies "if applicable"). EQF comes from the framework's referencing.
- grade (optional): ``score`` in the framework's default grading scheme; a score the scheme does not
  know, or one that fails while OOAPI says ``passed``, skips the record.
- learning outcomes [6]: the ``name`` of each ``LearningOutcome``; none skips the record.
- participation [10]: from ``modesOfDelivery`` (``online``/``coil`` online, ``presential`` onsite,
  ``blended``/``hybrid`` blended, ``work_based`` work experience); none skips the record.
- assessment [9]: OOAPI v6 has no type-of-assessment field, so ``["other"]``.
- quality assurance [11]: OOAPI v6 has no QA field, so ``type="unknown"`` and ``qa_status="unknown"``.
- awarding body [3, 4]: the member, as configured (never taken from member data).
- issued_on [5]: the date of ``resultDateTime`` as the member wrote it; learner [1]: the member-local
  ``personId`` (and the ESI when known).

Only associations with ``result.state == "completed"`` and ``pass == "passed"`` are awards. A record that
cannot be mapped becomes a ``MappingIssue`` (R19: never trust member data blindly, but one bad record must
not sink a learner's other credentials). Every mapped record meets its contract: a course's credential is
re-validated once per mapping of the course, a grade once per score, the context's ids once; an award's
other fields are the member's values that the OOAPI schema already bounds within the contract's limits.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import msgspec

from adapters.connectors.ooapi.schema import (
    Association,
    Course,
    LanguageTypedString,
    StudyLoadDescriptor,
)
from adapters.frameworks import Converter
from contracts.base import Contract
from contracts.credentials import (
    AwardingBody,
    CredentialRecord,
    LearnerIdentifier,
    LearnerRef,
    MicroCredential,
    ParticipationForm,
    Provenance,
    QualityAssurance,
)
from contracts.credits import CreditValue, Grade, Level
from contracts.errors import GatewayError
from contracts.frameworks import CreditFramework
from contracts.types import ConnectorId, ConversionBasis, Esi, SchacHome

__all__ = [
    "CONNECTOR_ID",
    "OOAPI_LEVEL_EQF",
    "MappingContext",
    "MappingIssue",
    "Unmappable",
    "is_awarded",
    "map_course",
    "map_credential",
    "map_grade",
    "map_level",
    "map_participation",
    "map_workload",
    "pick_text",
    "validated_course",
]

CONNECTOR_ID = "ooapi"
# OOAPI v6 ``level``: "corresponds to levelOfQualification N" (the NLQF, referenced to EQF N).
OOAPI_LEVEL_EQF = {"associate_degree": 5, "bachelor": 6, "master": 7, "doctoral": 8}
_PARTICIPATION: dict[str, ParticipationForm] = {
    "online": "online",
    "coil": "online",
    "presential": "onsite",
    "blended": "blended",
    "hybrid": "blended",
    "work_based": "work_experience",
}
_ISCED = re.compile(r"^\d{2}(\d{1,2})?$")
_LANGUAGE = re.compile(r"^([a-z]{2,3})(-[A-Z]{2})?$")
_LONG_TEXT = 10_000


class Unmappable(Exception):
    """Why one OOAPI record cannot become a contract; ``reason`` is a short, stable code."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class MappingIssue:
    """A member record that was skipped: ``source_id`` (OOAPI path), ``reason`` code and ``detail``."""

    source_id: str
    reason: str
    detail: str


_GRADES_KEPT = 256


class _ContextIds(Contract, frozen=True, kw_only=True):
    member: SchacHome
    connector: ConnectorId


@dataclass(frozen=True, slots=True)
class MappingContext:
    """Everything the mapping needs about the member: never taken from the member's own data. Its ids are
    checked against their contract here, once, not in every record that carries them."""

    member_id: str
    framework: CreditFramework
    converter: Converter
    awarding_body: AwardingBody
    connector_id: str = CONNECTOR_ID
    language: str = "en"

    # The grades of passing scores mapped so far: the same few recur in every answer of a member. Bounded
    # (a member's scores are its own choice): emptied when full.
    _grades: dict[str, Grade | None] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        try:
            msgspec.convert({"member": self.member_id, "connector": self.connector_id}, type=_ContextIds)
        except msgspec.ValidationError as exc:
            raise ValueError(f"the mapping context breaks its contract: {exc}") from exc

    def passing_grade(self, score: str | None) -> Grade | None:
        """``map_grade`` of an awarded result's ``score``, kept for the next award with the same score."""
        if score is None:
            return None
        grades = self._grades
        if score in grades:
            return grades[score]
        grade = map_grade(score, True, self.framework)
        if len(grades) >= _GRADES_KEPT:
            grades.clear()
        grades[score] = grade
        return grade


def pick_text(texts: Sequence[LanguageTypedString] | None, language: str = "en") -> str | None:
    """The text of a ``LanguageTypedString`` array in ``language`` (exact tag, then primary subtag), else
    English, else the first non-blank one."""
    values = [(t.language.lower(), t.value.strip()) for t in texts or () if t.value.strip()]
    if not values:
        return None
    wanted = language.lower()
    primary = wanted.split("-")[0]
    for tag, value in values:
        if tag == wanted:
            return value
    for candidate in (primary, "en"):
        for tag, value in values:
            if tag.split("-")[0] == candidate:
                return value
    return values[0][1]


def is_awarded(association: Association) -> bool:
    """An association is an award when its result is completed and passed (and its role is student)."""
    result = association.result
    return (
        association.role in (None, "student")
        and result is not None
        and result.state == "completed"
        and result.pass_ == "passed"
    )


def _normalise(converter: Converter, framework: CreditFramework, value: CreditValue) -> CreditValue:
    basis: ConversionBasis = "convention" if framework.credit.ects is not None else "hours"
    try:
        return converter.normalise(value, basis)
    except GatewayError:
        return value


def map_workload(
    loads: Sequence[StudyLoadDescriptor], framework: CreditFramework, converter: Converter
) -> CreditValue:
    """The workload in the framework's unit (or ECTS), normalised to ECTS where one number results."""
    unit = framework.credit.code
    for load in loads:
        if load.study_load_unit in (unit, f"x-{unit}"):
            value = CreditValue(amount=load.value, unit=unit, framework=framework.id)
            return _normalise(converter, framework, value)
    for load in loads:
        if load.study_load_unit == "ects":
            return CreditValue(
                amount=load.value, unit="ects", framework="ects", ects=load.value, ects_basis="convention"
            )
    units = sorted({load.study_load_unit for load in loads}) or ["none"]
    raise Unmappable("workload", f"no study load in {unit} or ects (found: {', '.join(units)})")


def map_level(value: str | None, framework: CreditFramework) -> Level | None:
    """The framework level of an OOAPI ``level`` value, or ``None`` where none applies."""
    if value is None or value == "undefined":
        return None
    prefix = f"x-{framework.id}-"
    if value.startswith(prefix):
        try:
            found = framework.level(value[len(prefix) :])
        except GatewayError as exc:
            raise Unmappable("level", f"{value!r} is not a level of {framework.id}") from exc
    elif value.startswith("x-"):
        return None  # a level of another framework: not ours to interpret
    else:
        try:
            found = framework.level(value)
        except GatewayError:
            eqf = OOAPI_LEVEL_EQF.get(value)
            candidates = framework.levels_at_eqf(eqf) if eqf is not None else ()
            if len(candidates) != 1:
                return None  # many-to-one referencing is never inverted to one answer
            found = candidates[0]
    return Level(framework=framework.id, code=found.code, eqf=found.eqf, qf_ehea_cycle=found.qf_ehea_cycle)


def map_grade(score: str | None, passed: bool, framework: CreditFramework) -> Grade | None:
    """The grade of ``score`` in the framework's default scheme; checked against the OOAPI pass state and
    against the ``Grade`` contract (the framework's answer is a plug-in's)."""
    if score is None or not score.strip():
        return None
    score = score.strip()
    try:
        normalised = framework.normalise_grade(score)
    except GatewayError as exc:
        scheme = framework.grading_scheme().id
        raise Unmappable("grade", f"{score!r} is not a grade of {framework.id} {scheme}") from exc
    if normalised.passed != passed:
        raise Unmappable("grade", f"{score!r} does not agree with the result's pass state")
    grade = Grade(
        framework=framework.id,
        scheme=normalised.scheme,
        value=normalised.value,
        passed=normalised.passed,
        normalised=normalised.point,
    )
    try:
        return msgspec.json.decode(msgspec.json.encode(grade), type=Grade)
    except msgspec.ValidationError as exc:
        raise Unmappable("contract", f"the grade breaks its contract: {exc}") from exc


def map_participation(modes: Sequence[str] | None) -> list[ParticipationForm]:
    """Annex I element 10 from OOAPI ``modesOfDelivery``, in order, without duplicates."""
    forms: list[ParticipationForm] = []
    for mode in modes or ():
        form = _PARTICIPATION.get(mode)
        if form is not None and form not in forms:
            forms.append(form)
    if not forms:
        raise Unmappable("participation", f"no known modeOfDelivery in {list(modes or [])}")
    return forms


def _language(tags: Sequence[str] | None) -> str | None:
    for tag in tags or ():
        match = _LANGUAGE.match(tag)
        if match:
            return tag
        primary = tag.split("-")[0].lower()
        if _LANGUAGE.match(primary):
            return primary
    return None


def map_course(
    course: Course,
    ctx: MappingContext,
    *,
    preferred: Sequence[StudyLoadDescriptor] = (),
    fallback: Sequence[StudyLoadDescriptor] = (),
) -> MicroCredential:
    """A ``MicroCredential`` from an OOAPI ``Course``; study loads are tried ``preferred``, the course's,
    then ``fallback``."""
    title = pick_text(course.name, ctx.language)
    if title is None:
        raise Unmappable("title", "the course has no name")
    outcomes = [
        text for outcome in course.learning_outcomes or () if (text := pick_text(outcome.name, ctx.language))
    ]
    if not outcomes:
        raise Unmappable("learning-outcomes", "the course has no learning outcomes")
    description = pick_text(course.description, ctx.language)
    isced = course.fields_of_study
    return MicroCredential(
        id=course.course_id,
        title=title,
        awarding_body=ctx.awarding_body,
        learning_outcomes=outcomes,
        workload=map_workload(
            [*preferred, *(course.study_load or ()), *fallback], ctx.framework, ctx.converter
        ),
        assessment=["other"],
        participation=map_participation(course.modes_of_delivery),
        quality_assurance=QualityAssurance(type="unknown"),
        level=map_level(course.level, ctx.framework),
        further_information=description[:_LONG_TEXT] if description else None,
        field_of_study=isced if isced and _ISCED.match(isced) else None,
        language=_language(course.teaching_languages),
    )


StudyLoads = tuple[tuple[StudyLoadDescriptor, ...], tuple[StudyLoadDescriptor, ...]]


def course_loads(association: Association) -> StudyLoads:
    """The study loads an association puts before and after its course's own: the association's own
    load overrides the course's (OOAPI: "only required when the studyload for the individual
    student/enrolment is different"); the result's load is only a fallback."""
    result = association.result
    preferred = (association.study_load,) if association.study_load else ()
    fallback = (result.study_load,) if result is not None and result.study_load else ()
    return preferred, fallback


def map_credential(
    course: Course,
    association: Association,
    ctx: MappingContext,
    *,
    fetched_at: dt.datetime,
    esi: str | None = None,
    courses: Callable[[Course, StudyLoads], MicroCredential] | None = None,
) -> CredentialRecord:
    """A ``CredentialRecord`` from an awarded ``CourseOfferingAssociation`` and its ``Course``.

    ``courses`` maps the course with the association's study loads (``course_loads``) into a credential
    already checked against its contract (``validated_course``); by default ``validated_course`` of
    ``map_course``. A connector may pass one that keeps the result for the same course object: the
    course's credential is then checked only when it is mapped."""
    result = association.result
    if result is None or not is_awarded(association):
        raise Unmappable("not-awarded", "the association has no completed, passed result")
    if association.person_id is None:
        raise Unmappable("learner", "the association names no person")
    loads = course_loads(association)
    if courses is None:
        credential = validated_course(map_course(course, ctx, preferred=loads[0], fallback=loads[1]))
    else:
        credential = courses(course, loads)
    # The record is not decoded again against its contract: what the member sent was, by the OOAPI schema
    # (``schema.Id`` fits ``CredentialRecord.id``, ``LearnerIdentifier.value`` and ``Provenance.source_id``),
    # the context's ids were when it was made, the credential and the grade when they were mapped; a
    # property test (tests/unit/connectors/test_ooapi_mapping_contract.py) holds this for any schema-valid
    # association.
    identifiers = [LearnerIdentifier(scheme="local", value=association.person_id, member=ctx.member_id)]
    if esi:
        identifiers.insert(0, LearnerIdentifier(scheme="esi", value=_checked_esi(esi)))
    return CredentialRecord(
        id=association.association_id,
        learner=LearnerRef(identifiers=identifiers),
        credential=credential,
        issuer=ctx.member_id,
        issued_on=result.result_date_time.date(),
        provenance=Provenance(
            member=ctx.member_id,
            connector=ctx.connector_id,
            source_id=f"course-offering-associations/{association.association_id}",
            fetched_at=fetched_at,
        ),
        grade=ctx.passing_grade(result.score),
        qa_status="unknown",
    )


def _checked_esi(esi: str) -> str:
    try:
        return msgspec.convert(esi, type=Esi)
    except msgspec.ValidationError as exc:
        raise Unmappable("contract", f"the learner's ESI breaks its contract: {exc}") from exc


def validated_course(credential: MicroCredential) -> MicroCredential:
    """``credential`` re-decoded against its contract."""
    try:
        return msgspec.json.decode(msgspec.json.encode(credential), type=MicroCredential)
    except (msgspec.ValidationError, ValueError) as exc:
        raise Unmappable("contract", f"the mapped micro-credential breaks its contract: {exc}") from exc
