"""NUL characters (U+0000) are refused everywhere the API reads text, with a 400.

PostgreSQL cannot store U+0000 in text or jsonb, so such a value must never reach
a query. The rule is applied where text comes in: query and form fields (Django's
and DRF's fields refuse it: "Null characters are not allowed."), path lookups
(lines.holdings.serializers.check_lookup), and JSON bodies and documents
(core.parsers.load_json, through `nul_path`, which names where the first one is).
One reader keeps them on purpose: the worker's parse of a stored results document
(lines.submissions.formats), whose RES-TEXT rule reports each NUL where it is.
The schema says so: every string the API reads that is not otherwise constrained
carries NO_NUL_PATTERN (`declare_no_nul_characters`, a drf-spectacular hook), so a
schema-valid request is never refused for it."""

from collections.abc import Iterator
from typing import Any

NUL = "\x00"
# ECMA and Python regular expressions alike: any text without U+0000.
NO_NUL_PATTERN = "^[^\\u0000]*$"


def nul_path(value: Any) -> str | None:
    """Where the first NUL character in parsed JSON is (e.g. "$.lines[0].name"), or None.
    Iterative: a document may be nested as deep as the parser allows (1,024 levels)."""
    stack: list[tuple[Any, str]] = [(value, "$")]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            if NUL in item:
                return where
        elif isinstance(item, dict):
            for key in item:
                if NUL in key:
                    return f"{where} (a key)"
            stack.extend((child, f"{where}.{key}") for key, child in reversed(item.items()))
        elif isinstance(item, list):
            stack.extend((child, f"{where}[{index}]") for index, child in reversed(list(enumerate(item))))
    return None


def _request_components(schema: dict) -> set[str]:
    """Names of the components request bodies use, directly or nested."""
    components = schema.get("components", {}).get("schemas", {})
    todo = [
        media["schema"]
        for operations in schema.get("paths", {}).values()
        for operation in operations.values()
        if isinstance(operation, dict)
        for media in operation.get("requestBody", {}).get("content", {}).values()
        if "schema" in media
    ]
    found: set[str] = set()
    while todo:
        node = todo.pop()
        for ref in _refs(node):
            name = ref.rsplit("/", 1)[-1]
            if name not in found and name in components:
                found.add(name)
                todo.append(components[name])
    return found


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for item in node.values():
            yield from _refs(item)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _declare(node: Any) -> None:
    """NO_NUL_PATTERN on every free-text string schema inside `node`."""
    if isinstance(node, list):
        for item in node:
            _declare(item)
        return
    if not isinstance(node, dict):
        return
    if node.get("type") == "string" and not any(key in node for key in ("pattern", "enum", "format", "readOnly")):
        node["pattern"] = NO_NUL_PATTERN
    for key, item in node.items():
        if key != "$ref":
            _declare(item)


def declare_no_nul_characters(result, generator=None, request=None, public=None):
    """drf-spectacular postprocessing hook: the request side of the schema says that
    text may not hold NUL characters (parameters, request bodies and the components
    they use; answers are left as they are)."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                _declare(parameter.get("schema"))
            for media in operation.get("requestBody", {}).get("content", {}).values():
                _declare(media.get("schema"))
    components = result.get("components", {}).get("schemas", {})
    for name in _request_components(result):
        _declare(components[name])
    return result
