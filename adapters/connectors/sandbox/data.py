"""Deterministic generated data for one sandbox institution (persons, courses, offerings, associations).

The model follows the OOAPI v6 resources the sandbox serves: ``Person`` (with ``primaryCode`` and an
ESI in ``otherCodes``), ``Course`` (a micro-credential: ``name``, ``description``, ``learningOutcomes``,
``studyLoad`` in the institution's own credit unit, ``level``, ``fieldsOfStudy`` as an ISCED-F 2013 code),
``CourseOffering`` (one per course) and ``CourseOfferingAssociation`` (a student's enrolment with its
``CourseOfferingAssociationResult``). Grades use the institution's framework's default grading scheme.

Everything derives from ``random.Random`` seeded with a string (stable across processes and
``PYTHONHASHSEED``), so one ``(member_id, framework_id, seed)`` always yields the same data.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from adapters.frameworks import reference_registry
from adapters.frameworks.registry import FrameworkRegistry
from contracts.frameworks import CreditFramework, FrameworkLevel, GradingScheme

__all__ = [
    "ESI_PREFIX",
    "Association",
    "Course",
    "Offering",
    "Person",
    "SandboxData",
    "SharedLearner",
    "esi_urn",
]

ESI_PREFIX = "urn:schac:personalUniqueCode:int:esi:"
_EPOCH = datetime(2024, 9, 1, tzinfo=UTC)

# ISCED-F 2013 detailed fields (four digits) and micro-credential titles in them.
_FIELDS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("0613", "software development", ("Secure Web APIs", "Test-Driven Python", "Cloud-Native Delivery")),
    ("0612", "data and networks", ("Relational Data Modelling", "Network Security Basics")),
    ("0541", "mathematics", ("Applied Linear Algebra", "Numerical Methods")),
    ("0542", "statistics", ("Bayesian Data Analysis", "Survey Sampling")),
    ("0413", "management", ("Agile Project Leadership", "Operations Management")),
    ("0521", "environmental science", ("Climate Risk Assessment", "Life-Cycle Analysis")),
    ("0713", "energy", ("Battery Storage Systems", "Grid Integration of Renewables")),
    ("0913", "nursing", ("Wound Care Practice", "Palliative Care Communication")),
    ("0232", "linguistics", ("Corpus Linguistics", "Academic Writing in English")),
    ("0311", "economics", ("Behavioural Economics", "Econometrics for Policy")),
)
_VERBS = ("Explain", "Apply", "Analyse", "Evaluate", "Design", "Critically assess")
_GIVEN = (
    "Ada",
    "Bram",
    "Chiara",
    "Dmitri",
    "Eilidh",
    "Farid",
    "Greta",
    "Hemi",
    "Ines",
    "Jonas",
    "Kiri",
    "Lena",
)
_SURNAMES = ("Andersen", "Bakker", "Campbell", "Dubois", "Eriksen", "Fraser", "Garcia", "Horvat", "Ivanova")
_ECTS_SIZES = (2, 3, 4, 5, 6, 10)


def esi_urn(home: str, code: str) -> str:
    """A European Student Identifier: ``urn:schac:personalUniqueCode:int:esi:<home>:<code>``."""
    return f"{ESI_PREFIX}{home}:{code}"


@dataclass(frozen=True, slots=True)
class SharedLearner:
    """A learner known at several members under one ESI (pass the same list to each member's data).

    ``passed`` is how many passed micro-credentials each member gives the learner.
    """

    esi: str
    given_name: str
    surname: str
    passed: int = 2


@dataclass(frozen=True, slots=True)
class Person:
    person_id: str
    local_id: str
    given_name: str
    surname: str
    esi: str | None
    active: bool


@dataclass(frozen=True, slots=True)
class Course:
    course_id: str
    code: str
    title: str
    description: str
    outcomes: tuple[tuple[str, str], ...]  # (learningOutcomeId, text)
    study_load: float
    level_code: str
    field_of_study: str
    first_start: datetime


@dataclass(frozen=True, slots=True)
class Offering:
    offering_id: str
    course_id: str
    code: str
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Association:
    association_id: str
    person_id: str
    offering_id: str
    course_id: str
    grade: str
    passed: bool
    result_date: datetime


@dataclass(slots=True)
class SandboxData:
    """All records of one sandbox institution, in its own framework's units, levels and grades."""

    member_id: str
    framework_id: str
    credit_unit: str
    grading_scheme: str
    persons: list[Person] = field(default_factory=list)
    courses: list[Course] = field(default_factory=list)
    offerings: list[Offering] = field(default_factory=list)
    associations: list[Association] = field(default_factory=list)

    @classmethod
    def generate(
        cls,
        member_id: str,
        framework_id: str,
        seed: int | str,
        *,
        learners: int = 20,
        courses: int = 8,
        shared: tuple[SharedLearner, ...] | list[SharedLearner] = (),
        registry: FrameworkRegistry | None = None,
    ) -> SandboxData:
        """Generate a member's data. Local learners get an ESI ``esi_urn(member_id, ...)`` two times in
        three; each ``shared`` learner is added with its own ESI and ``passed`` passed results here."""
        framework = (registry or reference_registry()).get(framework_id)
        scheme = framework.grading_scheme()
        rng = random.Random(f"ooapi-sandbox:{member_id}:{framework_id}:{seed}")
        data = cls(member_id, framework_id, framework.credit.code, scheme.id)
        levels = _micro_credential_levels(framework)
        for index in range(max(1, courses)):
            data._add_course(rng, framework, levels, index)
        for index in range(learners):
            given, surname = rng.choice(_GIVEN), rng.choice(_SURNAMES)
            esi = esi_urn(member_id, f"{rng.randrange(10**7, 10**8)}") if rng.random() < 2 / 3 else None
            person = data._add_person(rng, index, given, surname, esi)
            for course in rng.sample(data.courses, k=rng.randint(0, min(3, len(data.courses)))):
                data._add_association(rng, scheme, person, course, must_pass=False)
        for offset, learner in enumerate(shared):
            person = data._add_person(
                rng, learners + offset, learner.given_name, learner.surname, learner.esi
            )
            for course in rng.sample(data.courses, k=min(learner.passed, len(data.courses))):
                data._add_association(rng, scheme, person, course, must_pass=True)
        return data

    # --- lookups ---------------------------------------------------------------------------------------

    def person(self, person_id: str) -> Person | None:
        return next((p for p in self.persons if p.person_id == person_id), None)

    def course(self, course_id: str) -> Course | None:
        return next((c for c in self.courses if c.course_id == course_id), None)

    def offering(self, offering_id: str) -> Offering | None:
        return next((o for o in self.offerings if o.offering_id == offering_id), None)

    def association(self, association_id: str) -> Association | None:
        return next((a for a in self.associations if a.association_id == association_id), None)

    def associations_of(self, person_id: str) -> list[Association]:
        return [a for a in self.associations if a.person_id == person_id]

    def persons_by_esi(self, esi: str) -> list[Person]:
        """ESIs match case-insensitively (the SCHAC attribute's caseIgnoreMatch, domain.md section 7)."""
        wanted = esi.lower()
        return [p for p in self.persons if p.esi is not None and p.esi.lower() == wanted]

    def persons_by_local_id(self, local_id: str) -> list[Person]:
        return [p for p in self.persons if p.local_id == local_id]

    # --- generation ------------------------------------------------------------------------------------

    def _add_course(
        self, rng: random.Random, framework: CreditFramework, levels: list[FrameworkLevel], index: int
    ) -> None:
        isced, topic, titles = rng.choice(_FIELDS)
        title = f"{rng.choice(titles)} ({self.member_id.upper()[:6]} {index + 1})"
        outcomes = tuple(
            (_uuid(rng), f"{verb} key methods of {topic} in {title.split(' (')[0].lower()}.")
            for verb in rng.sample(_VERBS, k=3)
        )
        conv = framework.credit.ects
        ects = rng.choice(_ECTS_SIZES)
        per_ects = conv.units / conv.ects if conv is not None else 1.0
        load = round(ects * per_ects * 2) / 2
        unit_name = framework.credit.name
        start = _EPOCH + timedelta(days=rng.randrange(0, 365))
        course = Course(
            course_id=_uuid(rng),
            code=f"MC-{self.member_id.upper()[:4]}-{index + 1:03d}",
            title=title,
            description=f"A micro-credential in {topic} (ISCED-F {isced}) of {load:g} {unit_name}s.",
            outcomes=outcomes,
            study_load=load,
            level_code=rng.choice(levels).code,
            field_of_study=isced,
            first_start=start,
        )
        self.courses.append(course)
        self.offerings.append(
            Offering(
                offering_id=_uuid(rng),
                course_id=course.course_id,
                code=f"{course.code}-{start.year}",
                start=start,
                end=start + timedelta(weeks=rng.choice((6, 8, 10, 12))),
            )
        )

    def _add_person(
        self, rng: random.Random, index: int, given: str, surname: str, esi: str | None
    ) -> Person:
        person = Person(
            person_id=_uuid(rng),
            local_id=f"{self.member_id[:3].upper()}{index + 1:05d}",
            given_name=given,
            surname=surname,
            esi=esi,
            active=rng.random() < 0.8,
        )
        self.persons.append(person)
        return person

    def _add_association(
        self, rng: random.Random, scheme: GradingScheme, person: Person, course: Course, *, must_pass: bool
    ) -> None:
        offering = next(o for o in self.offerings if o.course_id == course.course_id)
        grade, passed = _grade(rng, scheme, must_pass or rng.random() < 0.85)
        self.associations.append(
            Association(
                association_id=_uuid(rng),
                person_id=person.person_id,
                offering_id=offering.offering_id,
                course_id=course.course_id,
                grade=grade,
                passed=passed,
                result_date=offering.end + timedelta(days=rng.randrange(3, 21)),
            )
        )


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _micro_credential_levels(framework: CreditFramework) -> list[FrameworkLevel]:
    """Levels of the framework's main scheme (e.g. FHEQ, not RQF, in ``uk-fheq``) a micro-credential is
    typically offered at: EQF 5-7, or, without EQF referencing (US degree levels), all below doctoral."""
    main = [lv for lv in framework.levels if lv.scheme == framework.levels[0].scheme]
    levels = [lv for lv in main if lv.eqf is not None and 5 <= lv.eqf <= 7]
    return levels or [lv for lv in main if lv.code != "doctoral"] or list(framework.levels)


def _grade(rng: random.Random, scheme: GradingScheme, want_pass: bool) -> tuple[str, bool]:
    """A grade of ``scheme`` with the wanted outcome: a mark for ``marks`` schemes, else a band code."""
    if scheme.kind == "marks" and scheme.max_mark is not None:
        pass_mark = int(scheme.pass_mark if scheme.pass_mark is not None else scheme.max_mark / 2)
        top = int(scheme.max_mark)
        mark = rng.randint(pass_mark, top) if want_pass else rng.randint(0, max(0, pass_mark - 1))
        return str(mark), mark >= pass_mark
    bands = [b for b in scheme.bands if b.passed == want_pass] or list(scheme.bands)
    band = rng.choice(bands)
    return band.code, band.passed
