"""``OoapiConnector``: the ``contracts.connectors.RegistryConnector`` of a member with an OOAPI v6 API.

Endpoints read (OOAPI v6): ``GET /`` (``Service``, health), ``GET /persons`` with
``filter_query[otherCodes.code][in]=<esi>`` (``Pagination`` of ``Person``),
``GET /persons/{personId}/course-offering-associations`` (``Pagination`` of ``CourseOfferingAssociation``),
``GET /course-offering-associations/{id}``, ``GET /course-offerings/{id}`` (``CourseOffering``),
``GET /courses`` and ``GET /courses/{id}`` (``Course``). The member-local learner id is the OOAPI
``personId``; a credential id is the ``CourseOfferingAssociation`` id.

Associations are asked for with ``expand=course_offering`` (in the OOAPI v6 enum of both association
endpoints), so a member that expands answers a learner lookup in one GET plus one per course it has not
recently been asked for; a member that ignores ``expand`` costs a GET of each offering too. Offerings and
courses are catalogue data, not learner data: each connector keeps them for ``catalogue_ttl`` seconds
(0: never kept), so repeated lookups cost one GET per member.

Transport rules (deadline, trace context, caps, error mapping) are in ``transport``; mapping rules in
``mapping``. Pagination follows ``hasNextPage`` up to ``max_pages`` pages (R19: a member cannot make the
gateway loop). Associations of other persons than the one asked for are dropped (R19).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import TypeVar
from urllib.parse import quote

import aiohttp
from cachetools import TTLCache
from opentelemetry.trace import Tracer

from adapters.connectors.ooapi.mapping import (
    CONNECTOR_ID,
    MappingContext,
    MappingIssue,
    StudyLoads,
    Unmappable,
    is_awarded,
    map_course,
    map_credential,
    validated_course,
)
from adapters.connectors.ooapi.schema import Association, Course, Offering, Page, Person, Service
from adapters.connectors.ooapi.transport import DEFAULT_MAX_BYTES, MemberHttp
from adapters.frameworks import Converter, FrameworkRegistry, reference_registry
from contracts.connectors import CatalogueFilters, ConnectorHealth, MemberHttpClient, TokenProvider
from contracts.credentials import AwardingBody, CredentialRecord, MicroCredential
from contracts.errors import MemberCallError, MemberResponseInvalid

__all__ = ["FetchResult", "OoapiConnector"]

T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")
_log = logging.getLogger(__name__)
_MAX_ID = 200
_EXPAND_OFFERING = {"expand": "course_offering"}


@dataclass(slots=True)
class FetchResult:
    """Mapped records, and the member records that were skipped (with why)."""

    records: list[CredentialRecord] = field(default_factory=list)
    issues: list[MappingIssue] = field(default_factory=list)


def _segment(value: str, what: str) -> str:
    """``value`` as one percent-encoded path segment (no traversal, no query smuggling)."""
    if not value or len(value) > _MAX_ID:
        raise ValueError(f"{what} must be 1..{_MAX_ID} characters")
    if value in (".", ".."):  # dot segments, which URL parsers resolve (even percent-encoded)
        raise ValueError(f"{what} must not be a dot segment")
    if _UNRESERVED.fullmatch(value):
        return value  # what ``quote`` would return, at a tenth of its cost (ids are mostly UUIDs)
    return quote(value, safe="")


_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]+")


class OoapiConnector:
    """A member's OOAPI v6 registry, read over one ``MemberHttpClient`` or ``aiohttp.ClientSession`` (created
    by the caller).

    ``framework`` is the member's credit framework id in ``registry`` (which may carry its overrides);
    ``token_provider`` gives the bearer token (in the gateway, ``MemberOAuthClient.access_token``).
    """

    def __init__(
        self,
        member_id: str,
        framework: str,
        base_url: str,
        session: MemberHttpClient | aiohttp.ClientSession,
        token_provider: TokenProvider,
        *,
        awarding_body: AwardingBody,
        registry: FrameworkRegistry | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        page_size: int = 100,
        max_pages: int = 20,
        concurrency: int = 8,
        language: str = "en",
        tracer: Tracer | None = None,
        catalogue_ttl: float = 300.0,
        catalogue_size: int = 4096,
    ) -> None:
        registry = registry or reference_registry()
        self._member_id = member_id
        self._framework = registry.get(framework)
        self._http = MemberHttp(
            member_id, base_url, session, token_provider, max_bytes=max_bytes, tracer=tracer
        )
        self._ctx = MappingContext(
            member_id=member_id,
            framework=self._framework,
            converter=Converter(registry),
            awarding_body=awarding_body,
            language=language,
        )
        self._page_size = page_size
        self._max_pages = max_pages
        self._limit = asyncio.Semaphore(concurrency)
        keep = catalogue_ttl > 0 and catalogue_size > 0
        self._offerings: TTLCache[str, Offering] | None = None
        self._courses: TTLCache[str, Course] | None = None
        # A kept course's mapping, by the course object's identity and the association's study loads: the
        # same course is mapped for every learner who holds it.
        self._mapped: TTLCache[tuple[int, StudyLoads], tuple[Course, MicroCredential]] | None = None
        if keep:
            self._offerings = TTLCache(catalogue_size, catalogue_ttl)
            self._courses = TTLCache(catalogue_size, catalogue_ttl)
            self._mapped = TTLCache(catalogue_size, catalogue_ttl)

    @property
    def member_id(self) -> str:
        return self._member_id

    @property
    def connector_id(self) -> str:
        return CONNECTOR_ID

    @property
    def framework(self) -> str:
        return self._framework.id

    # --- RegistryConnector -----------------------------------------------------------------------------

    async def fetch_credentials(self, local_learner_id: str, deadline: float) -> list[CredentialRecord]:
        """The learner's awarded micro-credentials; skipped records are logged (see ``fetch_report``)."""
        result = await self.fetch_report(local_learner_id, deadline)
        for issue in result.issues:
            _log.warning(
                "ooapi record skipped",
                extra={"member": self._member_id, "source_id": issue.source_id, "reason": issue.reason},
            )
        return result.records

    async def fetch_report(self, local_learner_id: str, deadline: float) -> FetchResult:
        """``fetch_credentials`` with the ``MappingIssue`` of every skipped record."""
        person = _segment(local_learner_id, "local_learner_id")
        result = FetchResult()
        route = "/persons/{personId}/course-offering-associations"
        associations, complete = await self._pages(
            f"/persons/{person}/course-offering-associations",
            route,
            Page[Association],
            deadline,
            _EXPAND_OFFERING,
        )
        if associations is None:
            return result
        if not complete:
            result.issues.append(MappingIssue(route, "truncated", f"more than {self._max_pages} pages"))
        awarded: list[Association] = []
        for association in associations:
            source = f"course-offering-associations/{association.association_id}"
            if association.person_id is not None and association.person_id != local_learner_id:
                result.issues.append(MappingIssue(source, "foreign-learner", "another person's association"))
            elif is_awarded(association):
                awarded.append(association)
        fetched_at = dt.datetime.now(dt.UTC)
        at_hand = [self._course_at_hand(a) for a in awarded]
        missing = [a for a, course in zip(awarded, at_hand, strict=True) if course is None]
        # Tasks only for courses to fetch: once the catalogue is kept, a lookup is one GET and no task.
        fetched = iter(await self._gather([self._course_of(a, deadline) for a in missing]) if missing else ())
        courses = [course if course is not None else next(fetched) for course in at_hand]
        for association, course in zip(awarded, courses, strict=True):
            self._map_into(result, association, course, fetched_at)
        return result

    async def find_learner(self, esi: str, deadline: float) -> str | None:
        """The ``personId`` of the one person whose ``otherCodes`` hold this ESI (checked here, not only
        trusted to the member's filter); ``MemberResponseInvalid`` if several persons hold it."""
        if not esi or len(esi) > 255 or "," in esi:
            raise ValueError("an ESI is 1..255 characters without commas")
        params = {"filter_query[otherCodes.code][in]": esi}
        persons, _ = await self._pages("/persons", "/persons", Page[Person], deadline, params)
        wanted = esi.lower()
        matches = {
            p.person_id
            for p in persons or ()
            if any(c.code_type.lower() == "esi" and c.code.lower() == wanted for c in p.other_codes or ())
        }
        if len(matches) > 1:
            raise MemberResponseInvalid(
                f"{self._member_id}: several persons hold one ESI",
                member=self._member_id,
                reason="ambiguous",
            )
        return next(iter(matches), None)

    async def get_credential(self, credential_id: str, deadline: float) -> CredentialRecord | None:
        """The awarded credential with this ``CourseOfferingAssociation`` id, or ``None``."""
        path = f"/course-offering-associations/{_segment(credential_id, 'credential_id')}"
        association = await self._http.get(
            path,
            Association,
            deadline,
            route="/course-offering-associations/{id}",
            params=_EXPAND_OFFERING,
            missing_ok=True,
        )
        if association is None or association.association_id != credential_id or not is_awarded(association):
            return None
        result = FetchResult()
        course = await self._course_of(association, deadline)
        self._map_into(result, association, course, dt.datetime.now(dt.UTC))
        for issue in result.issues:
            _log.warning("ooapi record skipped", extra={"member": self._member_id, "reason": issue.reason})
        return result.records[0] if result.records else None

    async def list_catalogue(self, filters: CatalogueFilters, deadline: float) -> list[MicroCredential]:
        """The member's courses that map to micro-credentials and match ``filters`` (applied here)."""
        courses, _ = await self._pages("/courses", "/courses", Page[Course], deadline)
        found: list[MicroCredential] = []
        for course in courses or ():
            try:
                credential = validated_course(map_course(course, self._ctx))
            except Unmappable as exc:
                _log.info("ooapi course skipped", extra={"member": self._member_id, "reason": exc.reason})
                continue
            if _matches(credential, filters):
                found.append(credential)
                if len(found) >= filters.limit:
                    break
        return found

    async def health(self, deadline: float) -> ConnectorHealth:
        """``GET /`` (``Service``): ``up`` if it answers a valid body in time, else ``down`` with why."""
        started = time.monotonic()
        reason: str | None = None
        upstream: int | None = None
        try:
            await self._http.get("/", Service, deadline, route="/")
        except MemberCallError as exc:
            reason, upstream = f"{type(exc).__name__}:{exc.reason}", exc.upstream_status
        return ConnectorHealth(
            member=self._member_id,
            connector=CONNECTOR_ID,
            status="up" if reason is None else "down",
            latency_ms=round((time.monotonic() - started) * 1000, 3),
            reason=reason,
            upstream_status=upstream,
        )

    # --- helpers ---------------------------------------------------------------------------------------

    async def _pages(
        self,
        path: str,
        route: str,
        page_type: type[Page[T]],
        deadline: float,
        params: dict[str, str] | None = None,
    ) -> tuple[list[T] | None, bool]:
        """Items of every page (``None`` if the first page is a 404), and whether the list is complete."""
        items: list[T] = []
        for number in range(1, self._max_pages + 1):
            query: dict[str, str | int] = {**(params or {}), "pageSize": self._page_size}
            query["pageNumber"] = number
            page = await self._http.get(path, page_type, deadline, route=route, params=query, missing_ok=True)
            if page is None:
                return (None, True) if number == 1 else (items, False)
            items.extend(page.items)
            if not page.has_next_page:
                return items, True
            if not page.items:
                return items, False
        return items, False

    async def _limited(self, call: Awaitable[T]) -> T:
        async with self._limit:
            return await call

    async def _gather(self, calls: list[Awaitable[T]]) -> list[T]:
        """Run ``calls`` at most ``concurrency`` at a time; the first member error cancels the rest."""
        tasks: list[asyncio.Task[T]] = []
        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(self._limited(call)) for call in calls]
        except BaseExceptionGroup as errors:
            first = next((e for e in errors.exceptions if isinstance(e, MemberCallError)), None)
            if first is None:
                raise
            raise first from None
        return [task.result() for task in tasks]

    def _course_at_hand(self, association: Association) -> Course | None:
        """The association's course if no GET is needed: its offering expanded or kept, its course kept."""
        offering_id = association.course_offering_id
        if offering_id is None or self._courses is None or self._offerings is None:
            return None
        offering = _expanded(association) or _kept_entry(self._offerings, offering_id)
        if offering is None or offering.course_id is None:
            return None
        return _kept_entry(self._courses, offering.course_id)

    async def _course_of(self, association: Association, deadline: float) -> Course | MappingIssue:
        """The ``Course`` of an association, via its ``CourseOffering`` (expanded in the association, kept
        from an earlier call, or fetched); a missing or schema-breaking offering or course skips only this
        record."""
        source = f"course-offering-associations/{association.association_id}"
        offering_id = association.course_offering_id
        if offering_id is None:
            return MappingIssue(source, "offering", "the association names no course offering")
        try:
            offering = _expanded(association)
            if offering is None:
                offering = await self._kept(
                    self._offerings,
                    offering_id,
                    f"/course-offerings/{_segment(offering_id, 'courseOfferingId')}",
                    Offering,
                    deadline,
                    "/course-offerings/{courseOfferingId}",
                )
            if offering is None or offering.course_id is None:
                return MappingIssue(source, "offering", "the course offering or its course is not found")
            course = await self._kept(
                self._courses,
                offering.course_id,
                f"/courses/{_segment(offering.course_id, 'courseId')}",
                Course,
                deadline,
                "/courses/{courseId}",
            )
        except MemberResponseInvalid as exc:
            return MappingIssue(source, exc.reason, exc.detail)
        except ValueError as exc:
            return MappingIssue(source, "identifier", str(exc))
        if course is None:
            return MappingIssue(source, "course", "the course is not found")
        return course

    async def _kept(
        self,
        cache: TTLCache[str, T] | None,
        key: str,
        path: str,
        kind: type[T],
        deadline: float,
        route: str,
    ) -> T | None:
        """A catalogue object from ``cache``, else fetched (and kept; a 404 is not kept)."""
        if cache is not None:
            found = _kept_entry(cache, key)
            if found is not None:
                return found
        value = await self._http.get(path, kind, deadline, route=route, missing_ok=True)
        if value is not None and cache is not None:
            cache[key] = value
        return value

    def _map_into(
        self,
        result: FetchResult,
        association: Association,
        course: Course | MappingIssue,
        fetched_at: dt.datetime,
    ) -> None:
        if isinstance(course, MappingIssue):
            result.issues.append(course)
            return
        try:
            result.records.append(
                map_credential(course, association, self._ctx, fetched_at=fetched_at, courses=self._course)
            )
        except Unmappable as exc:
            source = f"course-offering-associations/{association.association_id}"
            result.issues.append(MappingIssue(source, exc.reason, exc.detail))

    def _course(self, course: Course, loads: StudyLoads) -> MicroCredential:
        """``map_course`` of ``course`` with ``loads``, checked against its contract (``validated_course``)
        and kept while the course object is (the key holds its ``id``, and the entry the object itself, so
        a new object with a reused ``id`` is mapped anew)."""
        mapped = self._mapped
        key = (id(course), loads)
        if mapped is not None:
            kept = _kept_entry(mapped, key)
            if kept is not None and kept[0] is course:
                return kept[1]
        credential = validated_course(map_course(course, self._ctx, preferred=loads[0], fallback=loads[1]))
        if mapped is not None:
            mapped[key] = (course, credential)
        return credential


def _kept_entry(cache: TTLCache[K, V], key: K) -> V | None:
    """``cache.get(key)`` at a third of its cost (it checks the entry's expiry twice, over ``__contains__``
    then ``__getitem__``); hits are the rule here, two or three a record."""
    try:
        return cache[key]
    except KeyError:
        return None


def _expanded(association: Association) -> Offering | None:
    """The association's offering as the member expanded it, if it is the one the association names."""
    offering = association.course_offering
    if offering is None or offering.course_offering_id != association.course_offering_id:
        return None
    return offering


def _matches(credential: MicroCredential, filters: CatalogueFilters) -> bool:
    level = credential.level
    if filters.field_of_study and not (credential.field_of_study or "").startswith(filters.field_of_study):
        return False
    if filters.eqf is not None and (level is None or level.eqf != filters.eqf):
        return False
    return filters.framework_level is None or (level is not None and level.code == filters.framework_level)
