"""How many calls a learner lookup costs a member: associations come with their offerings
(``expand=course_offering``), and courses and offerings are kept for ``catalogue_ttl`` seconds, so a
repeated lookup is one GET. A member that ignores ``expand`` still answers, at one GET per offering more."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import msgspec
import pytest
from ooapi_sandbox_support import SHARED, Mint

from adapters.connectors.ooapi import OoapiConnector
from adapters.connectors.sandbox import RunningSandbox, SandboxData
from adapters.connectors.sandbox import ooapi as sandbox_ooapi
from contracts.credentials import AwardingBody

MEMBER = "uni-a.ac.uk"
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def connector(
    sandbox: RunningSandbox, session: aiohttp.ClientSession, token: str, ttl: float
) -> OoapiConnector:
    async def provide() -> str:
        return token

    body = AwardingBody(name="University A", country="GB", member=MEMBER)
    return OoapiConnector(
        MEMBER, "uk-fheq", sandbox.base_url, session, provide, awarding_body=body, catalogue_ttl=ttl
    )


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
def person_id(data: SandboxData) -> str:
    (person,) = data.persons_by_esi(SHARED[0].esi)
    return person.person_id


async def paths_of_one_fetch(sandbox: RunningSandbox, conn: OoapiConnector, person_id: str) -> list[str]:
    before = len(sandbox.sandbox.requests)
    records = await conn.fetch_credentials(person_id, time.monotonic() + 10)
    assert len(records) == 2  # the shared learner passed two micro-credentials
    return [r.path.split("?", 1)[0] for r in list(sandbox.sandbox.requests)[before:]]


async def test_a_repeated_lookup_costs_one_call(
    sandbox: RunningSandbox, session: aiohttp.ClientSession, mint: Mint, person_id: str
) -> None:
    conn = connector(sandbox, session, mint(), ttl=300)
    first = await paths_of_one_fetch(sandbox, conn, person_id)
    assert first[0] == f"/persons/{person_id}/course-offering-associations"
    assert sorted(p.split("/")[1] for p in first[1:]) == ["courses", "courses"]
    again = await paths_of_one_fetch(sandbox, conn, person_id)
    assert again == [f"/persons/{person_id}/course-offering-associations"]
    full = [r.path for r in list(sandbox.sandbox.requests)[-1:]]
    assert "expand=course_offering" in full[0]


async def test_without_keeping_every_lookup_asks_for_the_courses(
    sandbox: RunningSandbox, session: aiohttp.ClientSession, mint: Mint, person_id: str
) -> None:
    conn = connector(sandbox, session, mint(), ttl=0)
    await paths_of_one_fetch(sandbox, conn, person_id)
    again = await paths_of_one_fetch(sandbox, conn, person_id)
    assert len(again) == 3


async def test_a_member_that_does_not_expand_is_asked_for_each_offering(
    sandbox: RunningSandbox,
    session: aiohttp.ClientSession,
    mint: Mint,
    person_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plain = sandbox_ooapi.association_json

    def ignore_expand(data: SandboxData, association: Any, **expand: bool) -> dict[str, Any]:
        return plain(data, association)

    monkeypatch.setattr(sandbox_ooapi, "association_json", ignore_expand)
    conn = connector(sandbox, session, mint(), ttl=300)
    first = await paths_of_one_fetch(sandbox, conn, person_id)
    assert sorted(p.split("/")[1] for p in first[1:]) == [
        "course-offerings",
        "course-offerings",
        "courses",
        "courses",
    ]
    again = await paths_of_one_fetch(sandbox, conn, person_id)
    assert len(again) == 1  # offerings are kept too


def _without_fetch_time(records: list[Any]) -> list[Any]:
    return sorted(
        (
            msgspec.structs.replace(r, provenance=msgspec.structs.replace(r.provenance, fetched_at=EPOCH))
            for r in records
        ),
        key=lambda r: r.id,
    )


async def test_records_of_kept_courses_equal_those_mapped_afresh(
    sandbox: RunningSandbox,
    session: aiohttp.ClientSession,
    mint: Mint,
    person_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A kept course's mapping is reused while the course object is the one kept; a course fetched anew
    (the catalogue entry expired) is mapped anew, so a member's change to it shows."""
    token = mint()
    keeping, fresh = connector(sandbox, session, token, ttl=300), connector(sandbox, session, token, ttl=0)
    deadline = time.monotonic() + 10
    first = await keeping.fetch_credentials(person_id, deadline)
    again = await keeping.fetch_credentials(person_id, deadline)
    assert [r.credential for r in again] == [r.credential for r in first]
    assert _without_fetch_time(again) == _without_fetch_time(
        await fresh.fetch_credentials(person_id, deadline)
    )

    plain = sandbox_ooapi.course_json

    def renamed(*args: Any, **kwargs: Any) -> dict[str, Any]:
        body = plain(*args, **kwargs)
        body["name"] = [{"language": "en-GB", "value": "Renamed by the member"}]
        return body

    monkeypatch.setattr(sandbox_ooapi, "course_json", renamed)
    assert {r.credential.title for r in await keeping.fetch_credentials(person_id, deadline)} != {
        "Renamed by the member"
    }  # still the kept course
    keeping._courses.clear()  # type: ignore[union-attr]  # the catalogue entries expire
    assert {r.credential.title for r in await keeping.fetch_credentials(person_id, deadline)} == {
        "Renamed by the member"
    }
