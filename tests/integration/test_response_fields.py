"""R20 (data minimisation): the fields every operation answers with, as its OpenAPI document declares them,
against a reviewed snapshot (``response_fields.json``). A route that starts answering with a new field, a
learner's name say, fails here until the snapshot is updated in the same change, where a reviewer sees it.

    UPDATE_SNAPSHOTS=1 pytest tests/integration/test_response_fields.py   # after reviewing the change
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from litestar.testing import AsyncTestClient

SNAPSHOT = Path(__file__).with_name("response_fields.json")


def _fields(
    schema: dict[str, Any], components: dict[str, Any], prefix: str, seen: frozenset[str]
) -> set[str]:
    """Dotted paths of every property ``schema`` can hold (``[]`` for array items), through ``$ref``s,
    unions and compositions; a schema met again inside itself is named, not walked again."""
    ref = schema.get("$ref")
    if ref is not None:
        name = ref.rsplit("/", 1)[-1]
        if name in seen:
            return {f"{prefix}<{name}>"} if prefix else set()
        return _fields(components[name], components, prefix, seen | {name})
    found: set[str] = set()
    for key in ("oneOf", "anyOf", "allOf"):
        for part in schema.get(key, ()):
            found |= _fields(part, components, prefix, seen)
    for name, sub in schema.get("properties", {}).items():
        path = f"{prefix}.{name}" if prefix else name
        found.add(path)
        found |= _fields(sub, components, path, seen)
    if "items" in schema:
        found |= _fields(schema["items"], components, f"{prefix}[]", seen)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        found |= _fields(extra, components, f"{prefix}{{}}", seen)
    return found


def response_fields(document: dict[str, Any]) -> dict[str, list[str]]:
    """For every operation, the fields of its successful JSON answers."""
    components = document.get("components", {}).get("schemas", {})
    out: dict[str, list[str]] = {}
    for path, operations in sorted(document["paths"].items()):
        for method, operation in sorted(operations.items()):
            fields: set[str] = set()
            for status, response in operation.get("responses", {}).items():
                if not status.startswith("2"):
                    continue
                for media, content in response.get("content", {}).items():
                    if "json" in media and "schema" in content:
                        fields |= _fields(content["schema"], components, "", frozenset())
            out[f"{method.upper()} {path}"] = sorted(fields)
    return out


def test_field_paths_walk_refs_unions_and_cycles() -> None:
    components = {
        "Person": {
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "names": {"type": "array", "items": {"$ref": "#/components/schemas/Name"}},
                "manager": {"oneOf": [{"$ref": "#/components/schemas/Person"}, {"type": "null"}]},
            },
        },
        "Name": {"type": "object", "properties": {"given": {"type": "string"}}},
    }
    assert _fields({"$ref": "#/components/schemas/Person"}, components, "", frozenset()) == {
        "id",
        "names",
        "names[].given",
        "manager",
        "manager<Person>",
    }


async def test_every_operation_answers_with_its_reviewed_fields(client: AsyncTestClient[Any]) -> None:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200, response.text
    current = response_fields(response.json())
    assert current, "no operations found"
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(json.dumps(current, indent=1, sort_keys=True) + "\n")
    reviewed = json.loads(SNAPSHOT.read_text())
    changes = {
        operation: {
            "added": sorted(set(current.get(operation, ())) - set(reviewed.get(operation, ()))),
            "removed": sorted(set(reviewed.get(operation, ())) - set(current.get(operation, ()))),
        }
        for operation in sorted(current.keys() | reviewed.keys())
        if current.get(operation) != reviewed.get(operation)
    }
    assert not changes, f"response fields changed (review, then UPDATE_SNAPSHOTS=1): {changes}"
