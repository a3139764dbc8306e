"""The OOAPI v6 sandbox: an aiohttp server for ONE institution, protected by bearer tokens.

OOAPI v6 endpoints (paths and response schemas of the OOAPI v6 document):

- ``GET /`` (``Service``);
- ``GET /persons`` (``Pagination`` of ``Person``), filtered by the documented ``primaryCode`` parameter
  (the local student number) or by ``filter_query[otherCodes.code][in]=<esi>[,<esi>...]`` (the
  ``filterQuery`` parameter, optional in OOAPI; this sandbox supports exactly this field and
  ``primaryCode.code``, and answers 400 for other filters);
- ``GET /persons/{personId}`` (``Person``);
- ``GET /persons/{personId}/course-offering-associations`` (``Pagination`` of
  ``CourseOfferingAssociation``);
- ``GET /course-offering-associations/{courseOfferingAssociationId}`` (``CourseOfferingAssociation``);
- ``GET /courses`` (``Pagination`` of ``Course``), ``GET /courses/{courseId}`` (``CourseExpanded``);
- ``GET /course-offerings/{courseOfferingId}`` (``CourseOffering``).

Errors are ``Problem`` bodies (``application/problem+json``). Paging uses ``pageSize`` (one of 10, 20,
50, 100, 250) and ``pageNumber`` (from 1). The sandbox's own admin API lives under ``/_sandbox/`` and needs
the ``X-Sandbox-Admin`` secret: ``GET|PUT|DELETE /_sandbox/faults`` and ``GET /_sandbox/traceparents``.
"""

from __future__ import annotations

import asyncio
import hmac
import re
import secrets
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import msgspec
from aiohttp import web

from adapters.connectors.sandbox import ooapi
from adapters.connectors.sandbox.auth import AuthFailure, BearerVerifier
from adapters.connectors.sandbox.authority import SandboxAuthority
from adapters.connectors.sandbox.data import SandboxData
from adapters.connectors.sandbox.faults import FaultConfig, FaultState

__all__ = ["ADMIN_HEADER", "ADMIN_PREFIX", "RunningSandbox", "Sandbox", "TraceRecord", "run_sandbox"]

ADMIN_PREFIX = "/_sandbox/"
ADMIN_HEADER = "X-Sandbox-Admin"
JSON = "application/json"
PROBLEM_JSON = "application/problem+json"
_FILTER = re.compile(r"^filter_query\[([A-Za-z.]+)\]\[([a-z_]+)\]$")
_FILTER_FIELDS = {"otherCodes.code", "primaryCode.code"}
_AUTHORITY_PATHS = ("/oauth/", "/.well-known/")
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class BadRequest(Exception):
    """A query the sandbox refuses with 400 and a ``Problem``."""


def _expand(request: web.Request, allowed: set[str]) -> set[str]:
    """The ``expand`` values asked for (comma-separated or repeated); a value outside the endpoint's enum in
    the OOAPI document is a 400. The sandbox has no academic sessions, so that one expands to nothing."""
    wanted = {v for value in request.query.getall("expand", []) for v in value.split(",") if v}
    unknown = wanted - allowed
    if unknown:
        raise BadRequest(f"expand supports {sorted(allowed)} only, not {sorted(unknown)}")
    return wanted


def _json(body: Any, status: int = 200, content_type: str = JSON) -> web.Response:
    return web.Response(body=msgspec.json.encode(body), status=status, content_type=content_type)


def _problem(status: int, title: str, detail: str | None = None, kind: str | None = None) -> web.Response:
    return _json(ooapi.problem(status, title, detail, kind), status=status, content_type=PROBLEM_JSON)


@dataclass(frozen=True, slots=True)
class TraceRecord:
    """One OOAPI request as received: its path and its W3C ``traceparent`` header (or ``None``)."""

    method: str
    path: str
    traceparent: str | None

    @property
    def trace_id(self) -> str | None:
        """The trace id of a well-formed ``traceparent``."""
        if self.traceparent and _TRACEPARENT.match(self.traceparent):
            return self.traceparent.split("-")[1]
        return None


class Sandbox:
    """One institution's OOAPI v6 API: data, token check, faults and the trace recorder."""

    def __init__(
        self,
        data: SandboxData,
        verifier: BearerVerifier,
        *,
        admin_secret: str | None = None,
        record_limit: int = 100,
        authority: SandboxAuthority | None = None,
    ) -> None:
        self.data = data
        self.verifier = verifier
        self.authority = authority
        self.admin_secret = admin_secret or secrets.token_urlsafe(24)
        self.faults = FaultState()
        self.requests: deque[TraceRecord] = deque(maxlen=record_limit)
        self.base_url = ""

    # --- Python API ------------------------------------------------------------------------------------

    @property
    def traceparents(self) -> list[str | None]:
        """``traceparent`` headers of the recorded requests, oldest first."""
        return [r.traceparent for r in self.requests]

    @property
    def last_traceparent(self) -> str | None:
        return self.requests[-1].traceparent if self.requests else None

    # --- aiohttp application ---------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware], client_max_size=64 * 1024)
        get = app.router.add_get
        get("/", self._service)
        get("/persons", self._persons)
        get("/persons/{personId}", self._person)
        get("/persons/{personId}/course-offering-associations", self._person_associations)
        get("/course-offering-associations/{courseOfferingAssociationId}", self._association)
        get("/courses", self._courses)
        get("/courses/{courseId}", self._course)
        get("/course-offerings/{courseOfferingId}", self._offering)
        app.router.add_route("GET", ADMIN_PREFIX + "faults", self._get_faults)
        app.router.add_route("PUT", ADMIN_PREFIX + "faults", self._put_faults)
        app.router.add_route("DELETE", ADMIN_PREFIX + "faults", self._delete_faults)
        app.router.add_route("GET", ADMIN_PREFIX + "traceparents", self._get_traceparents)
        if self.authority is not None:
            self.authority.routes(app)
        return app

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(ADMIN_PREFIX):
            supplied = request.headers.get(ADMIN_HEADER, "")
            if not hmac.compare_digest(supplied.encode(), self.admin_secret.encode()):
                return _problem(401, "Unauthorized", "the sandbox admin secret is required", "admin")
            return await handler(request)
        if self.authority is not None and request.path.startswith(_AUTHORITY_PATHS):
            return await handler(request)  # the token endpoint authenticates clients itself
        self.requests.append(TraceRecord(request.method, request.path_qs, request.headers.get("traceparent")))
        try:
            self.verifier.verify(request.headers.get("Authorization"))
        except AuthFailure as failure:
            response = _problem(
                failure.status,
                "Unauthorized" if failure.status == 401 else "Forbidden",
                failure.detail,
                failure.error,
            )
            response.headers["WWW-Authenticate"] = f'Bearer error="{failure.error}"'
            return response
        action = self.faults.decide()
        if action.kind == "hang":
            await self.faults.hang()
            return _problem(503, "Service Unavailable", "released from a hang fault", "fault-hang")
        if action.kind == "error":
            return _problem(503, "Service Unavailable", "injected fault", "fault-error")
        if action.kind == "malformed":
            if action.malformed_kind == "schema":
                return _json({"pageSize": "ten", "items": {"personId": 7}, "hasNextPage": "maybe"})
            return web.Response(body=b"<html><body>Gateway Timeout</body>", status=200, content_type=JSON)
        if action.delay:
            await asyncio.sleep(action.delay)
        try:
            return await handler(request)
        except BadRequest as exc:
            return _problem(400, "Bad Request", str(exc))
        except web.HTTPNotFound:
            return _problem(404, "Not Found", f"no resource at {request.path}")
        except web.HTTPMethodNotAllowed:
            return _problem(405, "Method Not Allowed", "the sandbox serves GET only")

    # --- OOAPI handlers --------------------------------------------------------------------------------

    def _paging(self, request: web.Request) -> tuple[int, int]:
        try:
            size = int(request.query.get("pageSize", "10"))
            number = int(request.query.get("pageNumber", "1"))
        except ValueError as exc:
            raise BadRequest("pageSize and pageNumber must be integers") from exc
        if size not in ooapi.PAGE_SIZES or number < 1:
            raise BadRequest(f"pageSize must be one of {list(ooapi.PAGE_SIZES)} and pageNumber at least 1")
        return size, number

    async def _service(self, request: web.Request) -> web.Response:
        return _json(ooapi.service_json(self.data, self.base_url))

    async def _persons(self, request: web.Request) -> web.Response:
        size, number = self._paging(request)
        persons = list(self.data.persons)
        if "primaryCode" in request.query:
            persons = [p for p in persons if p.local_id == request.query["primaryCode"]]
        for name, value in request.query.items():
            match = _FILTER.match(name)
            if name.startswith("filter_query") and (match is None or match[2] != "in"):
                raise BadRequest("only filter_query[<field>][in] is supported")
            if match is None:
                continue
            if match[1] not in _FILTER_FIELDS:
                raise BadRequest(f"filter_query supports {sorted(_FILTER_FIELDS)} only")
            wanted = set(value.split(","))
            if match[1] == "otherCodes.code":  # ESIs match case-insensitively (domain.md section 7)
                esis = {esi.lower() for esi in wanted}
                persons = [p for p in persons if p.esi is not None and p.esi.lower() in esis]
            else:
                persons = [p for p in persons if p.local_id in wanted]
        items = [ooapi.person_json(self.data, p) for p in persons]
        return _json(ooapi.page(items, size, number))

    async def _person(self, request: web.Request) -> web.Response:
        person = self.data.person(request.match_info["personId"])
        if person is None:
            raise web.HTTPNotFound()
        return _json(ooapi.person_json(self.data, person))

    async def _person_associations(self, request: web.Request) -> web.Response:
        size, number = self._paging(request)
        person_id = request.match_info["personId"]
        if self.data.person(person_id) is None:
            raise web.HTTPNotFound()
        expand = _expand(request, {"academic_session", "course_offering"})
        items = [
            ooapi.association_json(self.data, a, expand_offering="course_offering" in expand)
            for a in self.data.associations_of(person_id)
        ]
        return _json(ooapi.page(items, size, number))

    async def _association(self, request: web.Request) -> web.Response:
        association = self.data.association(request.match_info["courseOfferingAssociationId"])
        if association is None:
            raise web.HTTPNotFound()
        expand = _expand(request, {"academic_session", "course_offering", "person"})
        return _json(
            ooapi.association_json(self.data, association, expand_offering="course_offering" in expand)
        )

    async def _courses(self, request: web.Request) -> web.Response:
        size, number = self._paging(request)
        items = [ooapi.course_json(self.data, c) for c in self.data.courses]
        return _json(ooapi.page(items, size, number))

    async def _course(self, request: web.Request) -> web.Response:
        course = self.data.course(request.match_info["courseId"])
        if course is None:
            raise web.HTTPNotFound()
        return _json(ooapi.course_json(self.data, course))

    async def _offering(self, request: web.Request) -> web.Response:
        offering = self.data.offering(request.match_info["courseOfferingId"])
        if offering is None:
            raise web.HTTPNotFound()
        return _json(ooapi.offering_json(self.data, offering))

    # --- admin handlers --------------------------------------------------------------------------------

    async def _get_faults(self, request: web.Request) -> web.Response:
        return _json(self.faults.as_json())

    async def _put_faults(self, request: web.Request) -> web.Response:
        try:
            config = msgspec.json.decode(await request.read(), type=FaultConfig)
        except (msgspec.DecodeError, ValueError) as exc:
            return _problem(400, "Bad Request", f"invalid fault: {exc}", "admin")
        self.faults.apply(config)
        return _json(self.faults.as_json())

    async def _delete_faults(self, request: web.Request) -> web.Response:
        self.faults.clear()
        return _json(self.faults.as_json())

    async def _get_traceparents(self, request: web.Request) -> web.Response:
        return _json(
            [{"method": r.method, "path": r.path, "traceparent": r.traceparent} for r in self.requests]
        )


@dataclass(frozen=True, slots=True)
class RunningSandbox:
    """A started sandbox: ``base_url`` (no trailing slash), and ``sandbox`` for faults and traces."""

    base_url: str
    sandbox: Sandbox

    @property
    def faults(self) -> FaultState:
        return self.sandbox.faults

    @property
    def admin_secret(self) -> str:
        return self.sandbox.admin_secret


@asynccontextmanager
async def run_sandbox(
    data: SandboxData,
    *,
    issuer: str | None = None,
    audience: str | None = None,
    jwks: dict[str, Any] | None = None,
    required_scope: str = "ooapi:read",
    admin_secret: str | None = None,
    authority: SandboxAuthority | None = None,
    port: int = 0,
) -> AsyncIterator[RunningSandbox]:
    """Serve ``data`` on ``127.0.0.1`` (at ``port``, or an ephemeral one) until the block exits.

    Tokens must be issued by ``issuer`` for ``audience``, signed by a key of ``jwks`` (a public JWK set)
    and carry ``required_scope``. With an ``authority``, the sandbox issues its own tokens (to the
    client the authority registers) and trusts exactly those.
    """
    if authority is not None:
        issuer, audience, jwks = authority.issuer, authority.audience, authority.jwks
        required_scope = authority.scope
    if issuer is None or audience is None or jwks is None:
        raise ValueError("give issuer, audience and jwks, or an authority")
    verifier = BearerVerifier(issuer=issuer, audience=audience, jwks=jwks, required_scope=required_scope)
    sandbox = Sandbox(data, verifier, admin_secret=admin_secret, authority=authority)
    runner = web.AppRunner(sandbox.app(), access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        port = runner.addresses[0][1]
        sandbox.base_url = f"http://127.0.0.1:{port}"
        yield RunningSandbox(sandbox.base_url, sandbox)
    finally:
        sandbox.faults.release_hung()
        await runner.cleanup()
