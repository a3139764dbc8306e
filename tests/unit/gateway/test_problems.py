"""Error rendering: every error is RFC 9457 problem+json; overload answers say when to come back."""

from __future__ import annotations

from litestar import Litestar, get
from litestar.testing import TestClient

from contracts.errors import CircuitOpen, MemberOverloaded, NotFound
from gateway.problems import exception_handlers


@get("/open", opt={"public": True})
async def open_circuit() -> None:
    raise CircuitOpen(
        "uni-a.ac.uk is failing; not calling it", member="uni-a.ac.uk", reason="open", retry_after=4.2
    )


@get("/full", opt={"public": True})
async def full() -> None:
    raise MemberOverloaded(
        "no slot before the deadline", member="uni-a.ac.uk", reason="no-time", retry_after=0.2
    )


@get("/missing", opt={"public": True})
async def missing() -> None:
    raise NotFound("nothing here", field="id")


@get("/bug", opt={"public": True})
async def bug() -> None:
    raise RuntimeError("secret internals")


def _client() -> TestClient[Litestar]:
    return TestClient(Litestar([open_circuit, full, missing, bug], exception_handlers=exception_handlers()))


def test_refusals_for_overload_carry_retry_after() -> None:
    with _client() as client:
        opened = client.get("/open")
        assert opened.status_code == 503
        assert opened.headers["retry-after"] == "5"
        assert opened.json()["type"] == "urn:consortium-gateway:problem:member-circuit-open"
        full_response = client.get("/full")
        assert full_response.status_code == 503
        assert full_response.headers["retry-after"] == "1"


def test_problems_have_type_title_status_and_field() -> None:
    with _client() as client:
        response = client.get("/missing")
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["field"] == "id"
        assert "retry-after" not in response.headers


def test_unexpected_errors_say_nothing_of_the_internals() -> None:
    with _client() as client:
        response = client.get("/bug")
        assert response.status_code == 500
        assert "secret" not in response.text
        assert response.json()["type"] == "urn:consortium-gateway:problem:internal-error"
