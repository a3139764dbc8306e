"""OpenAPI helpers shared by every capability's routes."""

from __future__ import annotations

from litestar.openapi import ResponseSpec

from contracts.problems import Problem

__all__ = ["problem_responses"]

_DESCRIPTIONS = {
    400: "The request is not valid (RFC 9457 problem; `field` names the input at fault)",
    401: "Authentication required",
    403: "Not allowed",
    404: "Not found",
    409: "Conflict with the current state",
    413: "Request body too large",
    503: "A dependency (the database) is unavailable",
}


def problem_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """Document the problem+json responses a route can give."""
    return {
        status: ResponseSpec(
            data_container=Problem,
            media_type="application/problem+json",
            description=_DESCRIPTIONS.get(status, "Error"),
        )
        for status in statuses
    }
