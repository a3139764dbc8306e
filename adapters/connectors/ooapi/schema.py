"""The OOAPI v6 fields the connector reads, as msgspec Structs (R19: safe consumption of member APIs).

Each Struct models exactly the fields of an OOAPI v6 component schema that the mapping uses; unknown fields
are ignored (members and later OOAPI versions add fields), but the fields read are typed and bounded, so a
wrong type or an absurd size fails the decode instead of reaching the mapping. Extensible enumerations
(``studyloadUnit``, ``level``, ``passState``, ``resultState``, ``modeOfDelivery``) are plain bounded strings:
``x-`` values are legal.

Schemas: ``Pagination``, ``Service``, ``Person`` (``PersonId`` + ``PersonProperties``), ``Course`` /
``CourseExpanded`` (``CourseId`` + ``CourseProperties``), ``CourseOffering``, ``CourseOfferingAssociation``
(``AssociationId`` + ``AssociationProperties``) with ``CourseOfferingAssociationResult``,
``StudyLoadDescriptor``, ``LearningOutcome``, ``LanguageTypedString``, ``IdentifierEntry`` and ``Problem``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Generic, TypeVar

import msgspec
from msgspec import Meta

__all__ = [
    "Association",
    "AssociationPage",
    "AssociationResult",
    "Course",
    "CoursePage",
    "IdentifierEntry",
    "LanguageTypedString",
    "LearningOutcome",
    "Offering",
    "Page",
    "Person",
    "PersonPage",
    "Problem",
    "Service",
    "StudyLoadDescriptor",
]

# Bounds on what one member object may carry; generous for real data, small enough to stop abuse.
Id = Annotated[str, Meta(min_length=1, max_length=200)]
Code = Annotated[str, Meta(min_length=1, max_length=256)]
Text = Annotated[str, Meta(max_length=20_000)]
Token = Annotated[str, Meta(min_length=1, max_length=100)]
Language = Annotated[str, Meta(max_length=35)]
MAX_ITEMS = 1000

T = TypeVar("T")


class _Ooapi(msgspec.Struct, frozen=True, kw_only=True):
    """Base: OOAPI field names are camelCase on the wire; unknown fields are ignored."""


class IdentifierEntry(_Ooapi, frozen=True, kw_only=True, rename="camel"):
    """``IdentifierEntry``: a ``codeType`` and a human-readable ``code``."""

    code_type: Token
    code: Code


class LanguageTypedString(_Ooapi, frozen=True, kw_only=True):
    """``LanguageTypedString``: one text with its BCP 47 ``language``."""

    language: Language
    value: Text


Texts = Annotated[list[LanguageTypedString], Meta(max_length=50)]


class StudyLoadDescriptor(_Ooapi, frozen=True, kw_only=True, rename="camel"):
    """``StudyLoadDescriptor``: ``value`` in ``studyLoadUnit`` (``ects``, ``hour``, ... or ``x-<unit>``)."""

    study_load_unit: Token
    value: Annotated[float, Meta(ge=0, le=100_000)]


class LearningOutcome(_Ooapi, frozen=True, kw_only=True, rename="camel"):
    """``LearningOutcome``: its ``name`` is the outcome statement."""

    learning_outcome_id: Id | None = None
    name: Texts = []


class Course(_Ooapi, frozen=True, kw_only=True, rename="camel"):
    """``Course`` / ``CourseExpanded``: the definition of a micro-credential."""

    course_id: Id
    primary_code: IdentifierEntry | None = None
    name: Texts = []
    description: Texts | None = None
    study_load: Annotated[list[StudyLoadDescriptor], Meta(max_length=20)] | None = None
    modes_of_delivery: Annotated[list[Token], Meta(max_length=20)] | None = None
    teaching_languages: Annotated[list[Language], Meta(max_length=20)] | None = None
    fields_of_study: Annotated[str, Meta(max_length=20)] | None = None
    learning_outcomes: Annotated[list[LearningOutcome], Meta(max_length=200)] | None = None
    level: Token | None = None


class Offering(_Ooapi, frozen=True, kw_only=True, rename="camel"):
    """``CourseOffering``: one run of a course; ``courseId`` links it to its ``Course``."""

    course_offering_id: Id
    course_id: Id | None = None
    start_date_time: dt.datetime | None = None
    end_date_time: dt.datetime | None = None


class AssociationResult(_Ooapi, frozen=True, kw_only=True, rename="camel"):
    """``CourseOfferingAssociationResult``: ``state``, ``pass``, ``score`` and ``resultDateTime``."""

    state: Token
    result_date_time: dt.datetime
    pass_: Token | None = msgspec.field(default=None, name="pass")
    score: Annotated[str, Meta(max_length=40)] | None = None
    study_load: StudyLoadDescriptor | None = None


class Association(_Ooapi, frozen=True, kw_only=True, rename="camel"):
    """``CourseOfferingAssociation``: a person's enrolment in a course offering, with its result."""

    association_id: Id
    role: Token | None = None
    person_id: Id | None = None
    course_offering_id: Id | None = None
    # With ``expand=course_offering``: the offering itself, saving a GET per association.
    course_offering: Offering | None = None
    study_load: StudyLoadDescriptor | None = None
    result: AssociationResult | None = None


class Person(_Ooapi, frozen=True, kw_only=True, rename="camel"):
    """``Person``: ``personId``, ``primaryCode`` and ``otherCodes`` (where the ESI is)."""

    person_id: Id
    primary_code: IdentifierEntry | None = None
    other_codes: Annotated[list[IdentifierEntry], Meta(max_length=50)] | None = None


class Service(_Ooapi, frozen=True, kw_only=True, rename="camel"):
    """``Service``: the metadata at ``GET /`` (used as the health probe)."""

    contact_email: Annotated[str, Meta(max_length=320)] | None = None
    specification: Annotated[str, Meta(max_length=2048)] | None = None


class Problem(_Ooapi, frozen=True, kw_only=True):
    """``Problem`` (RFC 9457): kept and attached to ``MemberCallError.member_problem``."""

    type: Annotated[str, Meta(max_length=2048)] | None = None
    title: Annotated[str, Meta(max_length=1000)] | None = None
    status: int | None = None
    detail: Annotated[str, Meta(max_length=4000)] | None = None
    instance: Annotated[str, Meta(max_length=2048)] | None = None


class Page(_Ooapi, Generic[T], frozen=True, kw_only=True, rename="camel"):
    """``Pagination``: ``items`` of one page, and whether there is a next one."""

    page_number: Annotated[int, Meta(ge=0)] | None = None
    has_next_page: bool
    items: Annotated[list[T], Meta(max_length=MAX_ITEMS)]


PersonPage = Page[Person]
CoursePage = Page[Course]
AssociationPage = Page[Association]
