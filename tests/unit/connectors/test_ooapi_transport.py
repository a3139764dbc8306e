"""The connector's error types, the member ``Problem`` extraction and hostile bodies (R19; no network)."""

from __future__ import annotations

from typing import Any, cast

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.connectors.ooapi.schema import Association, Course, Page, Person
from adapters.connectors.ooapi.transport import MemberHttp, _problem
from contracts.errors import (
    PROBLEM_TYPE_PREFIX,
    MemberCallError,
    MemberRefused,
    MemberResponseInvalid,
    MemberTimeout,
    MemberUnavailable,
    OutboundError,
)


@pytest.mark.parametrize(
    ("cls", "status", "slug"),
    [
        (MemberTimeout, 504, "member-timeout"),
        (MemberUnavailable, 502, "member-unavailable"),
        (MemberResponseInvalid, 502, "member-response-invalid"),
        (MemberRefused, 502, "member-refused"),
    ],
)
def test_member_errors(cls: type[MemberCallError], status: int, slug: str) -> None:
    error = cls(
        "uni-a.ac.uk: GET /courses answered 503", member="uni-a.ac.uk", reason="status", upstream_status=503
    )
    assert isinstance(error, OutboundError)
    assert (error.status, error.type_uri(), error.member, error.reason) == (
        status,
        PROBLEM_TYPE_PREFIX + slug,
        "uni-a.ac.uk",
        "status",
    )
    assert error.upstream_status == 503
    assert error.member_problem is None


def test_problem_bodies() -> None:
    body = b'{"type": "https://m.test/p/x", "status": 503, "title": "Down", "extra": {"a": 1}}'
    assert _problem(body) == {"type": "https://m.test/p/x", "status": 503, "title": "Down"}
    assert _problem(b"<html>oops</html>") is None
    assert _problem(b'{"status": "bad"}') is None
    assert _problem(b"{}") is None
    assert _problem(b"") is None
    assert _problem(b"[" * 100_000) is None


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=30,
)


@settings(deadline=None, max_examples=150)
@given(body=st.binary(max_size=200) | _json.map(msgspec.json.encode))
def test_hostile_bodies_decode_or_raise_member_response_invalid(body: bytes) -> None:
    http = MemberHttp("uni-a.ac.uk", "http://127.0.0.1:1", cast(Any, None), cast(Any, None))
    reasons: set[str] = set()
    for type_ in (Page[Association], Page[Person], Course):
        try:
            http._decode("/x", 200, "application/json", body, type_, missing_ok=False)
        except MemberResponseInvalid as exc:
            reasons.add(exc.reason)
    assert reasons <= {"schema", "not-json"}
