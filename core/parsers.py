"""Reading a client's JSON: orjson, with a nesting limit, for the API (DRF's parser
setting) and for pasted or uploaded documents. Kept apart from core.api because DRF
imports its parser setting while core.api is itself importing DRF."""

import orjson
from rest_framework import exceptions
from rest_framework.parsers import BaseParser

from core.encodings import bom_encoding, decode_text
from core.nul_characters import nul_path

# Deeper JSON is refused, never parsed into something that recurses later (Python's
# json module raised RecursionError, a 500, on 100,000 "["). orjson enforces the
# limit itself while parsing (no second walk over a 15 MB document).
JSON_MAX_DEPTH = 1024


def load_json(data: bytes | str, what: str = "the file", refuse_nul: bool = True) -> object:
    """Parse JSON (orjson) and refuse nesting deeper than JSON_MAX_DEPTH. Raises
    ValueError saying what is wrong and where; used for every JSON the catalog reads
    from a client (API bodies, pasted and uploaded documents). Bytes that are not
    UTF-8 are decoded by their byte-order mark (UTF-16 …) or refused with an
    EncodingError naming the encoding found (core.encodings). A NUL character in any
    text is refused (core.nul_characters) unless `refuse_nul` is off, for a reader
    that reports each one where it is (results' RES-TEXT rule)."""
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        if "depth limit" in exc.msg:
            raise ValueError(f"JSON is nested deeper than {JSON_MAX_DEPTH:,} levels ({exc})") from exc
        if isinstance(data, bytes) and (bom_encoding(data) or not _is_utf8(data)):
            return load_json(decode_text(data, what), what, refuse_nul)
        raise
    # Only an escaped \u0000 can be a NUL (a raw one is not valid JSON): walk the value
    # only when the text has one.
    if refuse_nul and (b"\\u0000" if isinstance(data, bytes) else "\\u0000") in data:
        where = nul_path(value)
        if where is not None:
            raise ValueError(f"a NUL character (\\u0000) at {where}: text may not contain NUL characters")
    return value


def _is_utf8(data):
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


class JSONParser(BaseParser):
    """DRF's JSON parser on orjson, with the depth limit: a 400 naming the problem."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return load_json(stream.read(), "the request body")
        except ValueError as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from exc
