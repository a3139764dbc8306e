"""The sandbox's OOAPI v6 endpoints: every response validates against the vendored OOAPI v6 document."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from ooapi_sandbox_support import SHARED
from ooapi_schema_subset import OoapiDocument

from adapters.connectors.sandbox import RunningSandbox, SandboxData


async def get(
    http: aiohttp.ClientSession, sandbox: RunningSandbox, path: str, headers: dict[str, str], **params: Any
) -> tuple[int, str, Any]:
    async with http.get(sandbox.base_url + path, headers=headers, params=params) as response:
        return response.status, response.content_type, await response.json(content_type=None)


def assert_valid(doc: OoapiDocument, template: str, body: Any, status: str = "200") -> None:
    errors = doc.errors(body, doc.response_schema(template, status))
    assert errors == [], errors[:10]


async def test_every_resource_validates(
    http: aiohttp.ClientSession,
    sandbox: RunningSandbox,
    data: SandboxData,
    auth: dict[str, str],
    ooapi_doc: OoapiDocument,
) -> None:
    status, ctype, body = await get(http, sandbox, "/", auth)
    assert (status, ctype) == (200, "application/json")
    assert_valid(ooapi_doc, "/", body)
    for person in data.persons:
        status, _, body = await get(http, sandbox, f"/persons/{person.person_id}", auth)
        assert status == 200
        assert_valid(ooapi_doc, "/persons/{personId}", body)
        path = f"/persons/{person.person_id}/course-offering-associations"
        status, _, body = await get(http, sandbox, path, auth, pageSize="100")
        assert status == 200
        assert_valid(ooapi_doc, "/persons/{personId}/course-offering-associations", body)
        assert len(body["items"]) == len(data.associations_of(person.person_id))
        # expand=course_offering (in the document's enum) puts each CourseOffering in the association.
        status, _, body = await get(http, sandbox, path, auth, pageSize="100", expand="course_offering")
        assert status == 200
        assert_valid(ooapi_doc, "/persons/{personId}/course-offering-associations", body)
        assert [i["courseOffering"]["courseOfferingId"] for i in body["items"]] == [
            i["courseOfferingId"] for i in body["items"]
        ]
    for association in data.associations:
        path = f"/course-offering-associations/{association.association_id}"
        status, _, body = await get(http, sandbox, path, auth)
        assert status == 200
        assert_valid(ooapi_doc, "/course-offering-associations/{courseOfferingAssociationId}", body)
    for course in data.courses:
        status, _, body = await get(http, sandbox, f"/courses/{course.course_id}", auth)
        assert status == 200
        assert_valid(ooapi_doc, "/courses/{courseId}", body)
    for offering in data.offerings:
        status, _, body = await get(http, sandbox, f"/course-offerings/{offering.offering_id}", auth)
        assert status == 200
        assert_valid(ooapi_doc, "/course-offerings/{courseOfferingId}", body)
    status, _, body = await get(http, sandbox, "/courses", auth)
    assert_valid(ooapi_doc, "/courses", body)


async def test_pagination_envelope(
    http: aiohttp.ClientSession,
    sandbox: RunningSandbox,
    data: SandboxData,
    auth: dict[str, str],
    ooapi_doc: OoapiDocument,
) -> None:
    pages = []
    for number in (1, 2, 3):
        status, _, body = await get(http, sandbox, "/persons", auth, pageSize="10", pageNumber=str(number))
        assert status == 200
        assert_valid(ooapi_doc, "/persons", body)
        pages.append(body)
    assert [(p["hasPreviousPage"], p["hasNextPage"]) for p in pages] == [
        (False, True),
        (True, True),
        (True, False),
    ]
    assert [len(p["items"]) for p in pages] == [10, 10, len(data.persons) - 20]
    ids = [item["personId"] for p in pages for item in p["items"]]
    assert ids == [p.person_id for p in data.persons]
    for bad in ({"pageSize": "7"}, {"pageNumber": "0"}, {"pageSize": "x"}):
        status, ctype, body = await get(http, sandbox, "/persons", auth, **bad)
        assert (status, ctype) == (400, "application/problem+json")
        assert_valid(ooapi_doc, "/persons", body, "400")


async def test_person_lookup_by_esi_and_local_id(
    http: aiohttp.ClientSession,
    sandbox: RunningSandbox,
    data: SandboxData,
    auth: dict[str, str],
    ooapi_doc: OoapiDocument,
) -> None:
    esi = SHARED[0].esi
    status, _, body = await get(http, sandbox, "/persons", auth, **{"filter_query[otherCodes.code][in]": esi})
    assert status == 200
    assert_valid(ooapi_doc, "/persons", body)
    assert [item["otherCodes"] for item in body["items"]] == [[{"codeType": "esi", "code": esi}]]
    local = data.persons[3]
    status, _, body = await get(http, sandbox, "/persons", auth, primaryCode=local.local_id)
    assert [item["personId"] for item in body["items"]] == [local.person_id]
    status, _, body = await get(
        http, sandbox, "/persons", auth, **{"filter_query[primaryCode.code][in]": local.local_id}
    )
    assert [item["personId"] for item in body["items"]] == [local.person_id]
    status, _, body = await get(
        http, sandbox, "/persons", auth, **{"filter_query[otherCodes.code][in]": "nope"}
    )
    assert (status, body["items"]) == (200, [])
    status, _, body = await get(http, sandbox, "/persons", auth, **{"filter_query[surname][like]": "A*"})
    assert status == 400
    assert_valid(ooapi_doc, "/persons", body, "400")


async def test_unknown_resources_are_problems(
    http: aiohttp.ClientSession,
    sandbox: RunningSandbox,
    data: SandboxData,
    auth: dict[str, str],
    ooapi_doc: OoapiDocument,
) -> None:
    for path in ("/persons/00000000-0000-4000-8000-000000000000", "/courses/nope", "/no-such-resource"):
        status, ctype, body = await get(http, sandbox, path, auth)
        assert (status, ctype) == (404, "application/problem+json")
        assert_valid(ooapi_doc, "/courses/{courseId}", body, "404")
    path = f"/persons/{data.persons[0].person_id}/course-offering-associations"
    status, ctype, body = await get(http, sandbox, path, auth, expand="programme")  # not in the enum
    assert (status, ctype) == (400, "application/problem+json")


def test_the_validator_catches_schema_breaks(ooapi_doc: OoapiDocument) -> None:
    """The subset validator is not vacuous: it rejects the sandbox's own ``malformed`` body, missing
    required fields, bad formats and values outside an extensible enumeration."""
    persons = ooapi_doc.response_schema("/persons")
    assert ooapi_doc.unsupported_keywords(persons) == set()
    assert ooapi_doc.errors({"pageSize": "ten", "items": {"personId": 7}, "hasNextPage": "maybe"}, persons)
    course = ooapi_doc.response_schema("/courses/{courseId}")
    good = {"courseId": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "name": [{"language": "en", "value": "x"}],
            "primaryCode": {"codeType": "identifier", "code": "c1"}}  # fmt: skip
    assert ooapi_doc.errors(good, course) == []
    assert ooapi_doc.errors({**good, "courseId": "not-a-uuid"}, course)
    assert ooapi_doc.errors({**good, "level": "masters"}, course)
    assert ooapi_doc.errors({**good, "level": "x-uk-fheq-6"}, course) == []
    assert ooapi_doc.errors({**good, "primaryCode": {"codeType": "identifier", "code": "c", "x": 1}}, course)
    assert ooapi_doc.errors({k: v for k, v in good.items() if k != "name"}, course)


@pytest.mark.parametrize("framework_id", ["uk-fheq", "scqf", "ects", "nzqf", "us-semester"])
def test_generated_data_of_every_framework_validates(framework_id: str, ooapi_doc: OoapiDocument) -> None:
    """Rendering alone, without HTTP, for each reference framework the demo uses."""
    from adapters.connectors.sandbox import ooapi

    data = SandboxData.generate(f"m-{framework_id}", framework_id, 3, shared=SHARED)
    for course in data.courses:
        assert_valid(ooapi_doc, "/courses/{courseId}", ooapi.course_json(data, course))
    for association in data.associations:
        body = ooapi.association_json(data, association)
        assert_valid(ooapi_doc, "/course-offering-associations/{courseOfferingAssociationId}", body)
    for person in data.persons:
        assert_valid(ooapi_doc, "/persons/{personId}", ooapi.person_json(data, person))
