"""``OoapiConnector`` against three real sandboxes on loopback (uk-fheq, scqf, us-semester), real tokens.

One learner (one ESI) holds credentials at all three members: found by ESI at each, fetched through three
connectors, each record in its member's own framework and normalised to ECTS.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass

import aiohttp
import msgspec
import pytest
from joserfc.jwk import ECKey
from ooapi_sandbox_support import ISSUER, SCOPE, Mint

from adapters.connectors.ooapi import OoapiConnector, create_connector
from adapters.connectors.sandbox import RunningSandbox, SandboxData, SharedLearner, esi_urn, run_sandbox
from adapters.frameworks import reference_registry
from contracts.connectors import CatalogueFilters, RegistryConnector
from contracts.credentials import AwardingBody, CredentialRecord
from contracts.members import Member, MemberConnector

ESI = esi_urn("uni-a.ac.uk", "4711")
LEARNER = SharedLearner(esi=ESI, given_name="Sam", surname="Okafor", passed=2)
MEMBERS = (
    ("uni-a.ac.uk", "uk-fheq", "GB"),
    ("uni-b.ac.uk", "scqf", "GB"),
    ("college-c.edu", "us-semester", "US"),
)


@dataclass(frozen=True)
class Site:
    member: str
    framework: str
    data: SandboxData
    sandbox: RunningSandbox
    connector: OoapiConnector


def deadline(seconds: float = 10.0) -> float:
    return time.monotonic() + seconds


def audience(member: str) -> str:
    return f"https://ooapi.{member}"


@pytest.fixture
async def sites(issuer_key: ECKey, mint: Mint) -> AsyncIterator[dict[str, Site]]:
    jwks = {"keys": [issuer_key.as_dict(private=False)]}
    async with AsyncExitStack() as stack:
        found: dict[str, Site] = {}
        for member, framework, country in MEMBERS:
            data = SandboxData.generate(member, framework, 11, learners=15, courses=8, shared=(LEARNER,))
            running = await stack.enter_async_context(
                run_sandbox(data, issuer=ISSUER, audience=audience(member), jwks=jwks, required_scope=SCOPE)
            )
            session = await stack.enter_async_context(aiohttp.ClientSession())

            async def token(aud: str = audience(member)) -> str:
                return mint(aud=aud)

            connector = OoapiConnector(
                member,
                framework,
                running.base_url,
                session,
                token,
                awarding_body=AwardingBody(name=f"University {member}", country=country, member=member),
                page_size=10,  # several pages for the persons list
            )
            found[member] = Site(member, framework, data, running, connector)
        yield found


async def test_one_learner_three_members(sites: dict[str, Site]) -> None:
    expected_eqf = {"uk-fheq": True, "scqf": True, "us-semester": False}
    for site in sites.values():
        assert isinstance(site.connector, RegistryConnector)
        person_id = await site.connector.find_learner(ESI, deadline())
        (person,) = site.data.persons_by_esi(ESI)
        assert person_id == person.person_id
        records = await site.connector.fetch_credentials(person_id, deadline())
        awarded = {a.association_id for a in site.data.associations_of(person.person_id) if a.passed}
        assert {r.id for r in records} == awarded
        assert len(records) == 2
        for record in records:
            # Every record satisfies its contract on the wire.
            assert msgspec.json.decode(msgspec.json.encode(record), type=CredentialRecord) == record
            assert record.issuer == site.member
            assert record.provenance.member == site.member
            assert record.provenance.connector == "ooapi"
            assert record.provenance.source_id == f"course-offering-associations/{record.id}"
            assert record.learner.identifiers[0].value == person.person_id
            workload = record.credential.workload
            assert workload.framework == site.framework
            assert workload.unit == reference_registry().get(site.framework).credit.code
            assert workload.ects is not None
            assert workload.ects_basis == "convention"
            association = site.data.association(record.id)
            assert association is not None
            course = site.data.course(association.course_id)
            assert course is not None
            assert record.credential.id == course.course_id
            assert workload.amount == course.study_load
            assert record.credential.level is not None
            assert record.credential.level.code == course.level_code
            assert (record.credential.level.eqf is not None) == expected_eqf[site.framework]
            assert record.grade is not None
            assert record.grade.value == association.grade
            assert record.grade.passed is True
            assert record.issued_on == association.result_date.date()
            assert len(record.credential.learning_outcomes) == 3
            assert record.credential.participation == ["online"]
            assert record.credential.quality_assurance.type == "unknown"
            assert record.credential.field_of_study == course.field_of_study


async def test_unknown_learner_and_credential(sites: dict[str, Site]) -> None:
    site = sites["uni-a.ac.uk"]
    assert await site.connector.find_learner(esi_urn("nowhere.test", "1"), deadline()) is None
    assert await site.connector.fetch_credentials("no-such-person", deadline()) == []
    assert await site.connector.get_credential("no-such-association", deadline()) is None


async def test_get_credential_and_failed_results(sites: dict[str, Site]) -> None:
    site = sites["uni-b.ac.uk"]
    passed = next(a for a in site.data.associations if a.passed)
    record = await site.connector.get_credential(passed.association_id, deadline())
    assert record is not None
    assert record.id == passed.association_id
    assert record.grade is not None
    assert record.grade.value == "pass"
    failed = [a for a in site.data.associations if not a.passed]
    if failed:
        assert await site.connector.get_credential(failed[0].association_id, deadline()) is None


async def test_fetch_report_lists_no_issues_for_clean_data(sites: dict[str, Site]) -> None:
    site = sites["college-c.edu"]
    for person in site.data.persons:
        report = await site.connector.fetch_report(person.person_id, deadline())
        assert report.issues == []
        assert len(report.records) == sum(a.passed for a in site.data.associations_of(person.person_id))


async def test_catalogue_and_filters(sites: dict[str, Site]) -> None:
    site = sites["uni-a.ac.uk"]
    everything = await site.connector.list_catalogue(CatalogueFilters(), deadline())
    assert {c.id for c in everything} == {c.course_id for c in site.data.courses}
    course = site.data.courses[0]
    by_field = await site.connector.list_catalogue(
        CatalogueFilters(field_of_study=course.field_of_study[:2]), deadline()
    )
    assert course.course_id in {c.id for c in by_field}
    assert all((c.field_of_study or "").startswith(course.field_of_study[:2]) for c in by_field)
    eqf = reference_registry().get("uk-fheq").level(course.level_code).eqf
    by_level = await site.connector.list_catalogue(CatalogueFilters(eqf=eqf, limit=1), deadline())
    assert len(by_level) == 1
    assert by_level[0].level is not None
    assert by_level[0].level.eqf == eqf


async def test_health_and_factory(sites: dict[str, Site], mint: Mint) -> None:
    site = sites["college-c.edu"]
    health = await site.connector.health(deadline())
    assert (health.status, health.member, health.reason) == ("up", "college-c.edu", None)
    member = Member(
        id="college-c.edu",
        name="College C",
        country="US",
        framework="us-semester",
        connector=MemberConnector(id="ooapi", settings={"base_url": site.sandbox.base_url}),
    )

    async def token() -> str:
        return mint(aud=audience("college-c.edu"))

    async with aiohttp.ClientSession() as session:
        connector = create_connector(member, session=session, token_provider=token)
        person_id = await connector.find_learner(ESI, deadline())
        assert person_id is not None
        records = await connector.fetch_credentials(person_id, deadline())
    assert len(records) == 2
    assert records[0].credential.awarding_body.name == "College C"
