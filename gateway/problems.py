"""The one place where errors become RFC 9457 problem+json responses.

Services raise ``contracts.errors`` exceptions; Litestar raises its own ``HTTPException``s (routing, body
limits, decoding); a database that went away mid-request is a 503 to retry (R33); anything else is a bug
and becomes a 500 that says nothing about the internals.
"""

from __future__ import annotations

import logging
import math
import re
from typing import Any

import asyncpg
import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import ExceptionHandlersMap
from opentelemetry import trace

from contracts.errors import (
    DatabaseUnavailable,
    GatewayError,
    InvalidRequest,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    TooManyRequests,
    Unauthenticated,
    UnsupportedMediaType,
)
from contracts.errors import Forbidden as ForbiddenError
from contracts.problems import FieldError, Problem
from gateway.db.unavailable import is_database_unavailable

__all__ = ["PROBLEM_MEDIA_TYPE", "exception_handlers", "problem_response"]

PROBLEM_MEDIA_TYPE = "application/problem+json"

log = logging.getLogger(__name__)

_BY_STATUS: dict[int, type[GatewayError]] = {
    cls.status: cls
    for cls in (
        InvalidRequest,
        Unauthenticated,
        ForbiddenError,
        NotFound,
        MethodNotAllowed,
        PayloadTooLarge,
        UnsupportedMediaType,
        TooManyRequests,
        ServiceUnavailable,
    )
}
# msgspec says "... - at `$.members[0].country`"; the path is the field at fault.
_AT_PATH = re.compile(r" - at `(\$[^`]*)`$")


def _trace_id() -> str | None:
    ctx = trace.get_current_span().get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid else None


def problem_response(problem: Problem, headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(
        content=msgspec.json.encode(problem),
        status_code=problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def _from_gateway_error(request: Request[Any, Any, Any], exc: GatewayError) -> Response[Any]:
    headers: dict[str, str] | None = getattr(exc, "headers", None)
    retry_after = getattr(exc, "retry_after", None)
    if isinstance(retry_after, int | float) and exc.status in (429, 503):
        # RFC 9110 section 10.2.3: whole seconds; refusing early beats a silently partial answer.
        headers = {**(headers or {}), "Retry-After": str(max(1, math.ceil(retry_after)))}
    return problem_response(
        Problem(
            type=exc.type_uri(),
            title=exc.title,
            status=exc.status,
            detail=exc.detail,
            instance=request.url.path,
            field=exc.field,
            expected=exc.expected,
            trace_id=_trace_id(),
        ),
        headers=headers,
    )


def _field_errors(exc: ValidationException) -> list[FieldError]:
    errors = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if not isinstance(item, dict):
            continue
        message = str(item.get("message", ""))
        match = _AT_PATH.search(message)
        if match:
            field, message = match[1], message[: match.start()]
        else:
            # Query, path and header parameters: the parameter's own name is the field.
            field = str(item.get("key") or "$")
        errors.append(FieldError(field=field, message=message))
    return errors


def _from_validation(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    errors = _field_errors(exc)
    first = errors[0] if errors else None
    return problem_response(
        Problem(
            type=InvalidRequest.type_uri(),
            title=InvalidRequest.title,
            status=400,
            detail=first.message if first else str(exc.detail),
            instance=request.url.path,
            field=first.field if first else None,
            errors=errors or None,
            trace_id=_trace_id(),
        )
    )


def _from_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    cls = _BY_STATUS.get(exc.status_code)
    status = exc.status_code
    headers = dict(exc.headers or {})
    return problem_response(
        Problem(
            type=cls.type_uri() if cls else GatewayError.type_uri(),
            title=cls.title if cls else str(exc.detail),
            status=status if status >= 400 else 500,
            detail=str(exc.detail),
            instance=request.url.path,
            trace_id=_trace_id(),
        ),
        headers=headers or None,
    )


def _from_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error", extra={"route": request.scope.get("path_template")})
    return problem_response(
        Problem(
            type=GatewayError.type_uri(),
            title=GatewayError.title,
            status=500,
            detail="The gateway failed to handle this request; the trace id identifies it in the logs.",
            instance=request.url.path,
            trace_id=_trace_id(),
        )
    )


def _from_database_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if not is_database_unavailable(exc):
        return _from_unexpected(request, exc)
    route = request.scope.get("path_template")
    log.warning("database unavailable", extra={"route": route, "error": type(exc).__name__})
    return _from_gateway_error(
        request, DatabaseUnavailable("the database connection was lost; retry with the same request")
    )


def exception_handlers() -> ExceptionHandlersMap:
    return {
        GatewayError: _from_gateway_error,
        asyncpg.PostgresError: _from_database_error,
        asyncpg.InterfaceError: _from_database_error,
        ValidationException: _from_validation,
        HTTPException: _from_http_exception,
        Exception: _from_unexpected,
    }
