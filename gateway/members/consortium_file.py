"""Reading a consortium file (TOML) into a validated ``ConsortiumFile``.

Errors name the member (by id when the file gives one) and the field at fault, so an operator can fix a
file of fifty members without bisecting it.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Collection
from pathlib import Path
from typing import Any

import msgspec

from contracts.errors import InvalidConsortiumFile
from gateway.members.models import ConsortiumFile

__all__ = ["load_consortium_file", "parse_consortium"]

_PATH = re.compile(r"^(?P<message>.*) - at `\$(?P<path>[^`]*)`$", re.DOTALL)
_MEMBER_INDEX = re.compile(r"^\.members\[(\d+)\](?:\.(.*))?$")


def load_consortium_file(path: Path, known_frameworks: Collection[str] | None = None) -> ConsortiumFile:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidConsortiumFile(f"cannot read {path}: {exc.strerror}") from exc
    return parse_consortium(data, known_frameworks)


def parse_consortium(data: bytes | str, known_frameworks: Collection[str] | None = None) -> ConsortiumFile:
    """Parse and validate; raise ``InvalidConsortiumFile`` naming the member and field at fault."""
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidConsortiumFile(f"not valid TOML: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise InvalidConsortiumFile("not UTF-8 text") from exc
    try:
        parsed = msgspec.convert(raw, ConsortiumFile)
    except msgspec.ValidationError as exc:
        raise _located(str(exc), raw) from exc
    _check_semantics(parsed, known_frameworks)
    return parsed


def _located(message: str, raw: dict[str, Any]) -> InvalidConsortiumFile:
    match = _PATH.match(message)
    if not match:
        return InvalidConsortiumFile(message)
    path, message = match["path"], match["message"]
    field = path.lstrip(".") or None
    member_match = _MEMBER_INDEX.match(path)
    if member_match is None:
        return InvalidConsortiumFile(f"{field}: {message}" if field else message, field=field)
    index, rest = int(member_match[1]), member_match[2]
    member = _member_id(raw, index)
    where = f"member {member!r} (members[{index}])" if member else f"members[{index}]"
    detail = f"{where}, field {rest!r}: {message}" if rest else f"{where}: {message}"
    return InvalidConsortiumFile(detail, member=member, field=field)


def _member_id(raw: dict[str, Any], index: int) -> str | None:
    members = raw.get("members")
    if isinstance(members, list) and index < len(members) and isinstance(members[index], dict):
        member_id = members[index].get("id")
        return member_id if isinstance(member_id, str) else None
    return None


def _check_semantics(parsed: ConsortiumFile, known_frameworks: Collection[str] | None) -> None:
    seen: dict[str, int] = {}
    client_owner: dict[str, str] = {}
    for index, entry in enumerate(parsed.members):
        for c_index, client in enumerate(entry.clients):
            owner = client_owner.setdefault(client.client_id, entry.id)
            if owner != entry.id or [c.client_id for c in entry.clients].count(client.client_id) > 1:
                raise InvalidConsortiumFile(
                    f"member {entry.id!r} (members[{index}]): client_id {client.client_id!r} is already used"
                    + (f" by member {owner!r}" if owner != entry.id else ""),
                    member=entry.id,
                    field=f"members[{index}].clients[{c_index}].client_id",
                    expected="a client_id unique in the consortium",
                )
        if entry.id in seen:
            first = seen[entry.id]
            raise InvalidConsortiumFile(
                f"member {entry.id!r} (members[{index}]) is declared twice (first at members[{first}])",
                member=entry.id,
                field=f"members[{index}].id",
                expected="a member id used once",
            )
        seen[entry.id] = index
        if known_frameworks is not None and entry.framework not in known_frameworks:
            raise InvalidConsortiumFile(
                f"member {entry.id!r} (members[{index}]), field 'framework': unknown framework "
                f"{entry.framework!r}",
                member=entry.id,
                field=f"members[{index}].framework",
                expected="one of: " + ", ".join(sorted(known_frameworks)),
            )
