"""The consortium file: valid files parse; every bad one names the member and the field at fault."""

from __future__ import annotations

from pathlib import Path

import pytest

from contracts.errors import InvalidConsortiumFile
from gateway.members.consortium_file import load_consortium_file, parse_consortium

HEADER = """
[consortium]
id = "test"
name = "Test consortium"
"""


def member(member_id: str = "uni-a.ac.uk", **fields: str) -> str:
    values = {
        "id": f'"{member_id}"',
        "name": '"University A"',
        "country": '"GB"',
        "framework": '"uk-fheq"',
        "connector": '{ id = "ooapi" }',
    }
    values.update(fields)
    body = "\n".join(f"{k} = {v}" for k, v in values.items() if v is not None and v != "<omit>")
    return f"\n[[members]]\n{body}\n"


def test_demo_file_has_five_members_in_five_frameworks(demo_consortium_file: Path) -> None:
    parsed = load_consortium_file(demo_consortium_file)
    assert len(parsed.members) == 5
    assert {m.framework for m in parsed.members} == {"uk-fheq", "scqf", "ects", "us-semester", "nzqf"}
    assert {m.country for m in parsed.members} == {"GB", "DE", "US", "NZ"}


def test_full_member_with_keys_endpoints_and_webhook() -> None:
    text = (
        HEADER
        + member(
            webhook_url='"https://registry.uni-a.ac.uk/hooks"',
            status='"suspended"',
        )
        + """
[members.endpoints]
registry = "https://registry.uni-a.ac.uk/ooapi/v6"
issuer = "https://registry.uni-a.ac.uk"

[[members.keys.jwks.keys]]
kty = "OKP"
crv = "Ed25519"
kid = "k1"
x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
"""
    )
    entry = parse_consortium(text).members[0]
    assert entry.status == "suspended"
    assert entry.endpoints.registry == "https://registry.uni-a.ac.uk/ooapi/v6"
    assert entry.keys is not None
    assert entry.keys.jwks is not None
    assert entry.keys.jwks["keys"][0]["kid"] == "k1"


@pytest.mark.parametrize(
    ("override", "field", "fragment"),
    [
        ({"country": '"Great Britain"'}, "members[1].country", "country"),
        ({"country": "44"}, "members[1].country", "Expected `str`"),
        ({"framework": '"UK FHEQ"'}, "members[1].framework", "framework"),
        ({"status": '"dormant"'}, "members[1].status", "status"),
        ({"webhook_url": '"ftp://x.example/h"'}, "members[1].webhook_url", "webhook_url"),
        ({"name": "<omit>"}, "members[1]", "missing required field `name`"),
        ({"colour": '"blue"'}, "members[1]", "unknown field `colour`"),
    ],
)
def test_bad_field_names_member_and_field(override: dict[str, str], field: str, fragment: str) -> None:
    text = HEADER + member("uni-a.ac.uk") + member("uni-b.ac.uk", **override)
    with pytest.raises(InvalidConsortiumFile) as caught:
        parse_consortium(text)
    err = caught.value
    assert err.member == "uni-b.ac.uk"
    assert err.field == field
    assert "uni-b.ac.uk" in err.detail
    assert fragment in err.detail


def test_bad_member_id_is_located_by_index() -> None:
    text = HEADER + member("Not A Domain")
    with pytest.raises(InvalidConsortiumFile) as caught:
        parse_consortium(text)
    assert caught.value.field == "members[0].id"
    assert "members[0]" in caught.value.detail


def test_duplicate_member_is_refused() -> None:
    text = HEADER + member("uni-a.ac.uk") + member("uni-a.ac.uk")
    with pytest.raises(InvalidConsortiumFile) as caught:
        parse_consortium(text)
    assert caught.value.field == "members[1].id"
    assert "declared twice" in caught.value.detail


def test_private_key_material_in_jwks_is_refused() -> None:
    text = (
        HEADER
        + member()
        + '\n[members.keys]\njwks = { keys = [{ kty = "OKP", crv = "Ed25519", x = "AA", d = "BB" }] }\n'
    )
    with pytest.raises(InvalidConsortiumFile) as caught:
        parse_consortium(text)
    assert caught.value.member == "uni-a.ac.uk"
    assert caught.value.field == "members[0].keys"
    assert "private key material (d)" in caught.value.detail


def test_both_jwks_and_jwks_uri_is_refused() -> None:
    text = (
        HEADER
        + member()
        + '\n[members.keys]\njwks_uri = "https://uni-a.ac.uk/jwks"\njwks = { keys = [{ kty = "OKP" }] }\n'
    )
    with pytest.raises(InvalidConsortiumFile, match="exactly one of `jwks` or `jwks_uri`"):
        parse_consortium(text)


def test_unknown_framework_is_refused_when_frameworks_are_known() -> None:
    text = HEADER + member(framework='"atlantis"')
    with pytest.raises(InvalidConsortiumFile) as caught:
        parse_consortium(text, known_frameworks={"uk-fheq", "ects"})
    assert caught.value.field == "members[0].framework"
    assert caught.value.expected == "one of: ects, uk-fheq"


def test_toml_syntax_error_is_reported() -> None:
    with pytest.raises(InvalidConsortiumFile, match="not valid TOML"):
        parse_consortium(HEADER + "[[members]\n")


def test_missing_consortium_table() -> None:
    with pytest.raises(InvalidConsortiumFile) as caught:
        parse_consortium(member())
    assert "consortium" in caught.value.detail


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidConsortiumFile, match="cannot read"):
        load_consortium_file(tmp_path / "missing.toml")
