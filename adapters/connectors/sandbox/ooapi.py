"""Rendering of sandbox records as OOAPI v6 JSON objects, the pagination envelope and ``Problem`` bodies.

Shapes follow the OOAPI v6 component schemas: ``Service``, ``Pagination``, ``Person``, ``Course`` /
``CourseExpanded``, ``CourseOffering``, ``CourseOfferingAssociation`` (with
``CourseOfferingAssociationResult``) and ``Problem`` (RFC 9457). Values outside OOAPI's extensible
enumerations use its ``x-`` prefix: ``studyLoadUnit`` ``x-uk-credit``, ``level`` ``x-uk-fheq-6``.
The institution's own framework, level code and grading scheme are also given in ``ext``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from adapters.connectors.sandbox.data import Association, Course, Offering, Person, SandboxData

__all__ = [
    "OOAPI_LEVELS",
    "PAGE_SIZES",
    "PROBLEM_BASE",
    "association_json",
    "course_json",
    "level_value",
    "offering_json",
    "page",
    "person_json",
    "problem",
    "service_json",
    "study_load_unit",
]

SPECIFICATION_URL = "https://openonderwijsapi.nl/specification/v6/docs.html"
PROBLEM_BASE = "https://sandbox.consortium.invalid/problems/"
# Schema ``pageSize``: an enumeration with default 10.
PAGE_SIZES = (10, 20, 50, 100, 250)
# Values of the ``level`` extensible enumeration a framework level code may map to unchanged.
OOAPI_LEVELS = frozenset({"associate_degree", "bachelor", "master", "doctoral"})
_OOAPI_UNITS = frozenset({"contact_time", "ects", "sbu", "sp", "hour"})
LANG = "en-GB"


def _ts(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(value: str) -> list[dict[str, str]]:
    """A ``LanguageTypedString`` array of one English value."""
    return [{"language": LANG, "value": value}]


def study_load_unit(credit_unit: str) -> str:
    """The ``studyloadUnit`` value for a framework credit unit (``x-`` prefixed unless OOAPI has it)."""
    return credit_unit if credit_unit in _OOAPI_UNITS else f"x-{credit_unit}"


def level_value(framework_id: str, code: str) -> str:
    """The ``level`` value for a framework level code (``x-<framework>-<code>`` unless OOAPI has it)."""
    return code if code in OOAPI_LEVELS else f"x-{framework_id}-{code}"


def _study_load(data: SandboxData, value: float) -> dict[str, Any]:
    """A ``StudyLoadDescriptor``."""
    return {"studyLoadUnit": study_load_unit(data.credit_unit), "value": value}


def service_json(data: SandboxData, base_url: str) -> dict[str, Any]:
    """``Service``: the metadata at ``GET /``."""
    return {
        "contactEmail": f"ooapi@{data.member_id}.sandbox.invalid",
        "specification": SPECIFICATION_URL,
        "documentation": f"{base_url}/",
        "ext": {"sandbox": True, "member": data.member_id, "creditFramework": data.framework_id},
    }


def person_json(data: SandboxData, person: Person) -> dict[str, Any]:
    """``Person``: ``primaryCode`` is the local ``student_number``; the ESI is in ``otherCodes``."""
    body: dict[str, Any] = {
        "personId": person.person_id,
        "primaryCode": {"codeType": "student_number", "code": person.local_id},
        "givenName": person.given_name,
        "surname": person.surname,
        "displayName": f"{person.given_name} {person.surname}",
        "activeEnrolment": person.active,
        "affiliations": ["student"],
        "otherCodes": [{"codeType": "esi", "code": person.esi}] if person.esi else [],
    }
    return body


def course_json(data: SandboxData, course: Course) -> dict[str, Any]:
    """``Course`` (also a valid ``CourseExpanded``): a micro-credential in the member's own units."""
    return {
        "courseId": course.course_id,
        "primaryCode": {"codeType": "identifier", "code": course.code},
        "name": _text(course.title),
        "description": _text(course.description),
        "studyLoad": [_study_load(data, course.study_load)],
        "modesOfDelivery": ["online"],
        "firstStartDate": _ts(course.first_start),
        "teachingLanguages": [LANG],
        "fieldsOfStudy": course.field_of_study,
        "learningOutcomes": [
            {
                "learningOutcomeId": outcome_id,
                "primaryCode": {"codeType": "identifier", "code": f"{course.code}-LO{n}"},
                "name": _text(text),
            }
            for n, (outcome_id, text) in enumerate(course.outcomes, start=1)
        ],
        "level": level_value(data.framework_id, course.level_code),
        "ext": {"creditFramework": data.framework_id, "frameworkLevel": course.level_code},
    }


def offering_json(data: SandboxData, offering: Offering) -> dict[str, Any]:
    """``CourseOffering``: the one run of a course that learners are associated with."""
    course = data.course(offering.course_id)
    return {
        "courseOfferingId": offering.offering_id,
        "primaryCode": {"codeType": "offering_code", "code": offering.code},
        "name": _text(course.title if course else offering.code),
        "resultExpected": True,
        "startDateTime": _ts(offering.start),
        "endDateTime": _ts(offering.end),
        "courseId": offering.course_id,
    }


def association_json(
    data: SandboxData, association: Association, *, expand_offering: bool = False
) -> dict[str, Any]:
    """``CourseOfferingAssociation`` with a ``CourseOfferingAssociationResult`` in the member's grading;
    ``expand_offering`` (``expand=course_offering``) puts the ``CourseOffering`` in ``courseOffering``."""
    course = data.course(association.course_id)
    load = _study_load(data, course.study_load if course else 0)
    offering = data.offering(association.offering_id) if expand_offering else None
    expanded = {"courseOffering": offering_json(data, offering)} if offering is not None else {}
    return {
        "associationId": association.association_id,
        "role": "student",
        "state": "finished",
        "personId": association.person_id,
        "courseOfferingId": association.offering_id,
        "result": {
            "state": "completed",
            "pass": "passed" if association.passed else "failed",
            "score": association.grade,
            "final": True,
            "resultDateTime": _ts(association.result_date),
            "studyLoad": load,
            "ext": {"gradingScheme": data.grading_scheme},
        },
        "ext": {"courseId": association.course_id},
        **expanded,
    }


def page(items: list[dict[str, Any]], page_size: int, page_number: int) -> dict[str, Any]:
    """The ``Pagination`` envelope around one page of ``items`` (pages count from 1)."""
    total_pages = max(1, -(-len(items) // page_size))
    start = (page_number - 1) * page_size
    return {
        "pageSize": page_size,
        "pageNumber": page_number,
        "hasPreviousPage": page_number > 1,
        "hasNextPage": page_number < total_pages,
        "totalPages": total_pages,
        "items": items[start : start + page_size],
    }


def problem(status: int, title: str, detail: str | None = None, kind: str | None = None) -> dict[str, Any]:
    """A ``Problem`` (RFC 9457) body."""
    body: dict[str, Any] = {"type": PROBLEM_BASE + (kind or str(status)), "status": status, "title": title}
    if detail is not None:
        body["detail"] = detail
    return body
