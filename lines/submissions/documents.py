"""A submission's document as stored: read from the upload (JSON, CSV set or
workbook), kept parsed after validation, and its format-independent digest."""

import hashlib
import io
import json
from typing import Any

import orjson
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from lines.models import Submission
from lines.submissions.formats import parse_upload


def parse_document(content: bytes, fmt: str) -> tuple[Any, Any]:
    """(document, locate) for stored or uploaded bytes; raises on a document that cannot be read."""
    return parse_upload(io.BytesIO(content), fmt)


def read_stored(submission: Submission) -> bytes:
    with submission.document.open("rb") as handle:
        return handle.read()


def _parsed_name(submission):
    return f"{submission.document.name}.parsed.json"


def store_parsed(submission: Submission, document: Any) -> None:
    """Keep the document as validated, in JSON: the review page and approval read it
    in a fraction of a second instead of re-reading a workbook."""
    name = _parsed_name(submission)
    if default_storage.exists(name):
        default_storage.delete(name)
    default_storage.save(name, ContentFile(orjson.dumps(document)))


def load_document(submission: Submission) -> Any:
    """The submission's document as a dict: the copy stored by its validation run,
    else the upload read again. Raises (TemplateError …) for an unreadable upload."""
    name = _parsed_name(submission)
    if default_storage.exists(name):
        with default_storage.open(name, "rb") as handle:
            return orjson.loads(handle.read())
    document, _locate = parse_document(read_stored(submission), submission.format)
    return document


def count_lines(document: Any) -> int:
    lines = document.get("lines") if isinstance(document, dict) else None
    return len(lines) if isinstance(lines, list) else 0


def document_digest(document: Any, content: bytes) -> str:
    """sha256 of the document's content, not its bytes: the same donors and lines sent
    as JSON, re-indented JSON or an XLSX workbook give one digest, which is how
    approval recognises a document that is already in the catalog."""
    if document is None:
        return hashlib.sha256(content).hexdigest()
    # A null and an absent field mean the same (the spreadsheet templates cannot
    # tell them apart), so neither enters the digest.
    canonical = orjson.dumps(_without_nulls(document), option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    return hashlib.sha256(canonical).hexdigest()


def _without_nulls(value):
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def document_json_bytes(data: Any) -> bytes:
    """A JSON body re-serialised for storage (the API parsed it already)."""
    return json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8")
