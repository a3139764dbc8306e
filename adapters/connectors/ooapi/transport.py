"""One member's OOAPI over a ``MemberHttpClient`` (aiohttp or pyreqwest): deadlines, bearer tokens, trace
context, capped and typed bodies.

Every call (R25, R19):

- turns the time left before its absolute ``deadline`` (a ``time.monotonic()`` value) into the timeout of
  the whole call: token, connection, headers and body; with no time left it raises ``MemberTimeout``
  without calling; the budget left is also sent to the member in ``Request-Timeout-Ms``;
- injects W3C ``traceparent`` from the current OpenTelemetry context into the request (in a client span);
- never follows redirects, checks the content type, caps the body (``max_bytes``, counted after
  decompression) and decodes it with msgspec into the Structs of ``schema`` (typed, bounded, unknown
  fields ignored);
- maps failures onto ``contracts.errors``: ``MemberTimeout``, ``MemberUnavailable`` (connection, 5xx, 429;
  with the member's ``Problem`` body), ``MemberRefused`` (401, 403), ``MemberResponseInvalid``.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Mapping
from typing import Any, TypeVar
from urllib.parse import quote

import aiohttp
import msgspec
from opentelemetry import trace
from opentelemetry.trace import Tracer

from adapters.connectors.member_client import as_member_client
from adapters.connectors.ooapi.schema import Problem
from adapters.deadlines import deadline_timer
from adapters.tracing import child_span, inject_current
from contracts.connectors import (
    MemberAnswer,
    MemberBodyTooLarge,
    MemberConnectFailed,
    MemberHttpClient,
    MemberTransportFailed,
    TokenProvider,
)
from contracts.errors import (
    MemberCallError,
    MemberRefused,
    MemberResponseInvalid,
    MemberTimeout,
    MemberUnavailable,
    OutboundError,
    OutboundTimeout,
)

__all__ = ["BUDGET_HEADER", "DEFAULT_MAX_BYTES", "MemberHttp"]

T = TypeVar("T")

DEFAULT_MAX_BYTES = 2 * 1024 * 1024
PROBLEM_MAX_BYTES = 16 * 1024
BUDGET_HEADER = "Request-Timeout-Ms"
_JSON_TYPES = frozenset({"application/json", "application/problem+json"})
_tracer = trace.get_tracer(__name__)
_log = logging.getLogger(__name__)


class MemberHttp:
    """GETs against one member's OOAPI base URL with one ``MemberHttpClient`` (or ``aiohttp.ClientSession``),
    owned by the caller."""

    def __init__(
        self,
        member_id: str,
        base_url: str,
        session: MemberHttpClient | aiohttp.ClientSession,
        token_provider: TokenProvider,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        tracer: Tracer | None = None,
    ) -> None:
        # The gateway passes its own tracer: it installs no global provider, so the module-level one
        # would record nothing there.
        self._tracer = tracer or _tracer
        self.member_id = member_id
        self.base_url = base_url.rstrip("/")
        self._client = as_member_client(session)
        self._token_provider = token_provider
        self._max_bytes = max_bytes

    def _error(
        self,
        cls: type[MemberCallError],
        detail: str,
        reason: str,
        status: int | None = None,
        problem: dict[str, object] | None = None,
    ) -> MemberCallError:
        return cls(
            f"{self.member_id}: {detail}",
            member=self.member_id,
            reason=reason,
            upstream_status=status,
            member_problem=problem,
        )

    async def get(
        self,
        path: str,
        type_: type[T],
        deadline: float,
        *,
        route: str,
        params: Mapping[str, str | int] | None = None,
        missing_ok: bool = False,
    ) -> T | None:
        """GET ``path`` (already percent-encoded) decoded as ``type_``; ``None`` for a 404 if ``missing_ok``.

        ``route`` is the OOAPI path template, used in messages and span names (never ids or addresses)."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise self._error(MemberTimeout, f"no time left for GET {route}", "expired")
        try:
            async with deadline_timer(deadline):
                token = await self._token()
                answer = await self._send(path, route, params, token, deadline)
        except TimeoutError as exc:
            raise self._error(
                MemberTimeout, f"GET {route} did not finish before the deadline", "deadline"
            ) from exc
        except MemberConnectFailed as exc:
            raise self._error(MemberUnavailable, f"GET {route} could not connect", "connect") from exc
        except MemberTransportFailed as exc:
            raise self._error(MemberUnavailable, f"GET {route} failed in transport", "transport") from exc
        except MemberBodyTooLarge as exc:
            raise self._error(
                MemberResponseInvalid, f"GET {route} answered more than {self._max_bytes} bytes", "too-large"
            ) from exc
        return self._decode(route, answer.status, answer.content_type, answer.body, type_, missing_ok)

    async def _token(self) -> str:
        try:
            return await self._token_provider()
        except OutboundTimeout as exc:
            raise self._error(MemberTimeout, "no access token before the deadline", "deadline") from exc
        except OutboundError as exc:
            # Operators need the why; the detail names no secret (the token request's error code at most).
            _log.warning(
                "no access token from the member",
                extra={"member": self.member_id, "reason": exc.reason, "detail": exc.detail},
            )
            raise self._error(
                MemberUnavailable, f"no access token ({exc.reason})", "token", exc.upstream_status
            ) from exc

    async def _send(
        self, path: str, route: str, params: Mapping[str, str | int] | None, token: str, deadline: float
    ) -> MemberAnswer:
        headers: dict[str, str] = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        with child_span(
            self._tracer,
            f"GET {route}",
            kind=trace.SpanKind.CLIENT,
            attributes={"http.request.method": "GET", "url.template": route, "member": self.member_id},
        ) as span:
            inject_current(headers)
            remaining = max(0.0, deadline - time.monotonic())
            headers[BUDGET_HEADER] = str(int(remaining * 1000))
            answer = await self._client.get(
                _url(self.base_url + path, params),
                headers,
                limit=self._max_bytes,
                error_limit=PROBLEM_MAX_BYTES,
            )
            span.set_attribute("http.response.status_code", answer.status)
            return answer

    def _decode(
        self,
        route: str,
        status: int,
        content_type: str,
        body: bytes | memoryview,
        type_: type[T],
        missing_ok: bool,
    ) -> T | None:
        if status == 200:
            if content_type not in _JSON_TYPES and not content_type.endswith("+json"):
                raise self._error(
                    MemberResponseInvalid,
                    f"GET {route} answered {content_type!r}, not JSON",
                    "content-type",
                    status,
                )
            try:
                return msgspec.json.decode(body, type=type_)
            except msgspec.ValidationError as exc:
                raise self._error(
                    MemberResponseInvalid, f"GET {route} broke the OOAPI schema: {exc}", "schema", status
                ) from exc
            except (msgspec.DecodeError, RecursionError) as exc:
                raise self._error(
                    MemberResponseInvalid, f"GET {route} answered invalid JSON", "not-json", status
                ) from exc
        if status == 404 and missing_ok:
            return None
        problem = _problem(body)
        if status in (401, 403):
            raise self._error(MemberRefused, f"GET {route} was refused ({status})", "status", status, problem)
        if status == 429 or status >= 500:
            reason = "rate-limited" if status == 429 else "status"
            raise self._error(MemberUnavailable, f"GET {route} answered {status}", reason, status, problem)
        reason = "redirect" if 300 <= status < 400 else "unexpected-status"
        raise self._error(MemberResponseInvalid, f"GET {route} answered {status}", reason, status, problem)


def _url(base: str, params: Mapping[str, str | int] | None) -> str:
    """``base`` (already percent-encoded) with ``params`` encoded here, so the client need not parse and
    re-quote the URL (a tenth of aiohttp's cost per GET)."""
    if params:
        return f"{base}?{_query(tuple(params.items()))}"
    return base


@functools.lru_cache(maxsize=1024)
def _query(params: tuple[tuple[str, str | int], ...]) -> str:
    """Every key and value fully percent-encoded; most queries repeat (page size and number, expand)."""
    return "&".join(f"{quote(k, safe='')}={quote(str(v), safe='')}" for k, v in params)


def _problem(body: bytes | memoryview) -> dict[str, object] | None:
    """The member's ``Problem`` body, if it sent a valid one (fields of RFC 9457 only)."""
    if not body:
        return None
    try:
        problem = msgspec.json.decode(body, type=Problem)
    except (msgspec.DecodeError, RecursionError):
        return None
    fields: dict[str, Any] = msgspec.structs.asdict(problem)
    return {key: value for key, value in fields.items() if value is not None} or None
