"""A small validator for the subset of JSON Schema (2020-12) that OOAPI v6 component schemas use.

``jsonschema`` is not installed in the test environment, so this validates what the OOAPI v6 response
schemas reachable from the sandbox's operations actually use: ``$ref`` (local), ``type`` (a name or a
list), ``properties``, ``required``, ``additionalProperties`` (boolean or schema), ``items``, ``allOf``,
``anyOf``, ``oneOf``, ``enum``, ``minItems``, ``minLength``, ``maxLength``, ``pattern``, ``minimum``, and
the formats ``uuid``, ``date``, ``date-time``, ``email``, ``uri``. It also enforces OOAPI's
``x-ooapi-extensible-enum`` (a listed value, or one starting with ``x-``). Annotations (``title``,
``description``, ``readOnly``, ``writeOnly``, ``default``, ``example``) are ignored.
``unsupported_keywords`` lists any keyword outside this subset, so a test can prove nothing was skipped.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import date, datetime
from pathlib import Path
from typing import Any

ANNOTATIONS = frozenset(
    {"title", "description", "readOnly", "writeOnly", "default", "example", "examples", "deprecated"}
)
SUPPORTED = frozenset(
    {
        "$ref", "type", "properties", "required", "additionalProperties", "items", "allOf", "anyOf",
        "oneOf", "enum", "minItems", "minLength", "maxLength", "pattern", "minimum", "format",
        "x-ooapi-extensible-enum",
    }
)  # fmt: skip
_TYPES: dict[str, Any] = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
    "null": type(None),
}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")


class OoapiDocument:
    """The vendored OOAPI v6 OpenAPI document, and validation of JSON values against its schemas."""

    def __init__(self, path: Path) -> None:
        self.doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        self.schemas: dict[str, Any] = self.doc["components"]["schemas"]

    def response_schema(self, path: str, status: str = "200") -> dict[str, Any]:
        """The JSON schema of a GET operation's response (resolving ``components/responses`` refs)."""
        response = self.doc["paths"][path]["get"]["responses"][status]
        if "$ref" in response:
            response = self.doc["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
        content = response["content"]
        return dict(next(iter(content.values()))["schema"])

    def resolve(self, ref: str) -> dict[str, Any]:
        prefix = "#/components/schemas/"
        assert ref.startswith(prefix), f"only local component refs are supported: {ref}"
        return dict(self.schemas[ref[len(prefix) :]])

    def errors(self, value: Any, schema: dict[str, Any], at: str = "$") -> list[str]:
        """Every violation of ``schema`` by ``value``, as ``<json path>: <reason>``."""
        out: list[str] = []
        if "$ref" in schema:
            out += self.errors(value, self.resolve(schema["$ref"]), at)
        if "type" in schema and not _type_ok(value, schema["type"]):
            return [*out, f"{at}: {type(value).__name__} is not of type {schema['type']}"]
        for sub in schema.get("allOf", []):
            out += self.errors(value, sub, at)
        if "anyOf" in schema and not any(not self.errors(value, s, at) for s in schema["anyOf"]):
            out.append(f"{at}: matches none of anyOf")
        if "oneOf" in schema:
            matches = sum(1 for s in schema["oneOf"] if not self.errors(value, s, at))
            if matches != 1:
                out.append(f"{at}: matches {matches} of oneOf, not exactly one")
        if "enum" in schema and value not in schema["enum"]:
            out.append(f"{at}: {value!r} not in {schema['enum']}")
        extensible = schema.get("x-ooapi-extensible-enum")
        if extensible and isinstance(value, str) and value not in extensible and not value.startswith("x-"):
            out.append(f"{at}: {value!r} is neither a listed value nor an x- extension")
        if isinstance(value, dict):
            out += self._object(value, schema, at)
        elif isinstance(value, list):
            if "minItems" in schema and len(value) < schema["minItems"]:
                out.append(f"{at}: fewer than {schema['minItems']} items")
            if "items" in schema:
                for i, item in enumerate(value):
                    out += self.errors(item, schema["items"], f"{at}[{i}]")
        elif isinstance(value, str):
            out += _string(value, schema, at)
        elif _below_minimum(value, schema):
            out.append(f"{at}: {value} < minimum {schema['minimum']}")
        return out

    def _object(self, value: dict[str, Any], schema: dict[str, Any], at: str) -> list[str]:
        out = [f"{at}: missing required {name!r}" for name in schema.get("required", []) if name not in value]
        properties = schema.get("properties", {})
        for name, item in value.items():
            if name in properties:
                out += self.errors(item, properties[name], f"{at}.{name}")
            elif schema.get("additionalProperties") is False:
                out.append(f"{at}: unexpected property {name!r}")
            elif isinstance(schema.get("additionalProperties"), dict):
                out += self.errors(item, schema["additionalProperties"], f"{at}.{name}")
        return out

    def unsupported_keywords(self, schema: dict[str, Any]) -> set[str]:
        """Keywords reachable from ``schema`` that this validator does not implement."""
        found: set[str] = set()
        seen: set[str] = set()

        def walk(node: Any) -> None:
            if isinstance(node, list):
                for item in node:
                    walk(item)
            if not isinstance(node, dict):
                return
            found.update(k for k in node if k not in ANNOTATIONS and k not in SUPPORTED)
            for key, sub in node.items():
                if key == "$ref" and sub not in seen:
                    seen.add(sub)
                    walk(self.resolve(sub))
                elif key == "properties":
                    for prop in sub.values():
                        walk(prop)
                elif key in ("items", "additionalProperties", "allOf", "anyOf", "oneOf"):
                    walk(sub)

        walk(schema)
        return found


def _below_minimum(value: Any, schema: dict[str, Any]) -> bool:
    number = isinstance(value, int | float) and not isinstance(value, bool)
    return number and "minimum" in schema and value < schema["minimum"]


def _type_ok(value: Any, expected: str | list[str]) -> bool:
    names = [expected] if isinstance(expected, str) else expected
    for name in names:
        if name == "integer" and isinstance(value, int) and not isinstance(value, bool):
            return True
        if name == "number" and isinstance(value, int | float) and not isinstance(value, bool):
            return True
        if name in _TYPES and isinstance(value, _TYPES[name]):
            return True
    return False


def _string(value: str, schema: dict[str, Any], at: str) -> list[str]:
    out: list[str] = []
    if "minLength" in schema and len(value) < schema["minLength"]:
        out.append(f"{at}: shorter than {schema['minLength']}")
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        out.append(f"{at}: longer than {schema['maxLength']}")
    if "pattern" in schema and not re.search(schema["pattern"], value):
        out.append(f"{at}: does not match {schema['pattern']}")
    fmt = schema.get("format")
    if fmt and not _format_ok(value, fmt):
        out.append(f"{at}: {value!r} is not a valid {fmt}")
    return out


def _format_ok(value: str, fmt: str) -> bool:
    try:
        if fmt == "uuid":
            return str(uuid.UUID(value)) == value.lower()
        if fmt == "date":
            date.fromisoformat(value)
            return len(value) == 10
        if fmt == "date-time":
            return "T" in value and datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is not None
    except ValueError:
        return False
    if fmt == "email":
        return bool(_EMAIL.match(value))
    if fmt == "uri":
        return bool(_URI.match(value))
    return True  # uri-reference, int32, double: not asserted
