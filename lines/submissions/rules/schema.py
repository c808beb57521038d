"""SCHEMA: the document against its protocol version's JSON Schema, with messages
rewritten for a depositor. The compiled validators are cached per protocol version.

Two validators of the same schema: jsonschema-rs (compiled Rust, about 50x faster)
answers whether the document is valid, which a clean deposit is; only an invalid one
is walked by jsonschema (Python), whose errors carry what the located, rewritten
messages need. tests/lines/submissions/rules/test_schema_fast_path.py checks that
the two agree."""

import hashlib
import json
import re
from functools import lru_cache

import jsonschema_rs
from jsonschema import Draft202012Validator

from lines.submissions.rules.findings import finding, pointer

MAX_SCHEMA_FINDINGS = 5000


def inline_local_refs(schema):
    """The schema with every local `#/$defs/...` reference replaced by its target.

    jsonschema resolves a $ref on every instance it descends into; with the refs
    inlined once at compile time the same checks run about twice as fast. A
    recursive reference is left as it is."""
    defs = schema.get("$defs", {})

    def walk(node, active):
        if isinstance(node, list):
            return [walk(item, active) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/") and ref[8:] in defs and ref not in active:
            target = walk(defs[ref[8:]], active | {ref})
            rest = {key: walk(value, active) for key, value in node.items() if key != "$ref"}
            return {**target, **rest}
        return {key: walk(value, active) for key, value in node.items()}

    inlined = walk(schema, frozenset())
    # Keep $defs only if a recursive reference still points into it.
    if "#/$defs/" not in json.dumps({k: v for k, v in inlined.items() if k != "$defs"}):
        inlined.pop("$defs", None)
    return inlined


@lru_cache(maxsize=16)
def _compiled_validator(number, digest, schema_text):
    # Keyed by the schema's digest as well as the version number, so a schema
    # edited in the admin is never checked with a stale compiled copy.
    schema = inline_local_refs(json.loads(schema_text))
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


@lru_cache(maxsize=16)
def _compiled_fast_validator(number, digest, schema_text):
    # Formats checked as jsonschema's FORMAT_CHECKER does (a date must be a date).
    return jsonschema_rs.Draft202012Validator(json.loads(schema_text), validate_formats=True)


def _schema_text(protocol):
    text = json.dumps(protocol.schema, sort_keys=True)
    return protocol.number, hashlib.sha256(text.encode()).hexdigest(), text


def schema_validator(protocol):
    """The compiled jsonschema validator of a protocol version (cached)."""
    return _compiled_validator(*_schema_text(protocol))


def fast_schema_validator(protocol):
    """The compiled jsonschema-rs validator of a protocol version (cached): `is_valid`."""
    return _compiled_fast_validator(*_schema_text(protocol))


def _describe_type(value):
    return {
        dict: "an object",
        list: "a list",
        str: "text",
        bool: "true/false",
        type(None): "null",
        int: "a whole number",
        float: "a number",
    }.get(type(value), type(value).__name__)


def _short(value):
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _missing_property(error):
    match = re.match(r"^'(.+)' is a required property$", error.message)
    return match.group(1) if match else error.message


def _schema_message(error):
    """jsonschema's message, rewritten for a depositor: what is wrong and what is allowed."""
    kind, value, expected = error.validator, error.instance, error.validator_value
    if kind == "required":
        return f"missing required field {_missing_property(error)!r}"
    if kind == "additionalProperties":
        allowed = sorted((error.schema.get("properties") or {}).keys())
        extra = sorted(set(value) - set(allowed)) if isinstance(value, dict) else []
        hint = f"; allowed fields: {', '.join(allowed)}" if allowed else ""
        return f"unknown field {', '.join(repr(e) for e in extra)} (check the spelling){hint}"
    if kind == "enum":
        return f"{_short(value)} is not allowed here; use one of: {', '.join(str(v) for v in expected)}"
    if kind == "const":
        return f"{_short(value)} is not allowed here; expected {_short(expected)}"
    if kind == "type":
        types = expected if isinstance(expected, list) else [expected]
        wanted = " or ".join(
            {
                "integer": "a whole number",
                "number": "a number",
                "string": "text",
                "object": "an object",
                "array": "a list",
                "boolean": "true/false",
                "null": "null",
            }.get(t, t)
            for t in types
        )
        got = "null" if value is None else f"{_describe_type(value)} {_short(value)}"
        return f"expected {wanted}, got {got}"
    if kind == "format" and expected == "date":
        return f"{_short(value)} is not a valid date; write YYYY-MM-DD"
    if kind == "pattern":
        if error.schema.get("format") == "date":
            return f"{_short(value)} is not a valid date; write YYYY-MM-DD"
        return f"{_short(value)} does not have the expected form ({expected})"
    if kind in ("minimum", "maximum"):
        return f"{_short(value)} is {'below the minimum' if kind == 'minimum' else 'above the maximum'} {expected}"
    if kind in ("minItems", "maxItems"):
        return f"the list has {len(value)} items; {'at least' if kind == 'minItems' else 'at most'} {expected} allowed"
    if kind in ("minLength", "maxLength"):
        return f"{_short(value)} is {'too short' if kind == 'minLength' else 'too long'} (limit {expected} characters)"
    if kind == "maxProperties":
        return f"too many entries ({len(value)}; at most {expected})"
    if kind == "propertyNames":
        return f"{error.message}"
    if kind == "anyOf":
        return f'{_short(value)} is not allowed here: alleles are text such as "11,12", a number or a list'
    return error.message


def schema_findings(document, protocol, locals_by_path):
    if fast_schema_validator(protocol).is_valid(document):
        return []
    return validator_findings(schema_validator(protocol), document, locals_by_path)


def validator_findings(validator, document, locals_by_path):
    """SCHEMA findings of any compiled validator, located by JSON pointer, with messages
    for a depositor; `locals_by_path(path)` names the (line, donor) a path belongs to.
    Also what results/ checks a dataset with, against its assay's schema."""
    findings = []
    for error in validator.iter_errors(document):
        path = list(error.absolute_path)
        if error.validator == "propertyNames":
            # The offending key is the instance; point at it inside its object.
            path.append(error.instance)
            message = f"{error.instance!r} is not an accepted key here; allowed: {', '.join(error.validator_value.get('enum', []))}"
        else:
            message = _schema_message(error)
            if error.validator == "required":
                # Point at the missing member: a CSV/XLSX location then names its column.
                path.append(_missing_property(error))
        line, donor = locals_by_path(path)
        findings.append(finding("SCHEMA", pointer(*path), message, line=line, donor=donor))
        if len(findings) >= MAX_SCHEMA_FINDINGS:
            findings.append(
                finding(
                    "SCHEMA",
                    "",
                    f"more than {MAX_SCHEMA_FINDINGS} schema errors; the rest are not listed",
                )
            )
            break
    return findings
