"""Reading uploaded text (JSON documents, CSV files, STR batches) in the right encoding.

UTF-8 is what the catalog asks for. A byte-order mark says the encoding outright
(UTF-8, UTF-16, UTF-32: decoded as such). Text without one must be UTF-8; when it
is not, charset-normalizer names what it most likely is, and the error says so
("the file looks like Shift-JIS; save it as UTF-8") instead of guessing: Latin-1
or UTF-16 JSON once failed as "surrogates not allowed", a UTF-16 CSV gave mojibake
column names and Shift-JIS was read silently as cp1252."""

import codecs
from collections.abc import Iterable, Iterator

from charset_normalizer import from_bytes

# Longest first: the UTF-32 LE mark begins with the UTF-16 LE one.
BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"),
)
# charset-normalizer reads at most this much of a large file to name its encoding.
SAMPLE_BYTES = 64 * 1024
# Encodings that are unambiguous once detected (every other character a NUL):
# decoded, not refused.
DECODED_WHEN_DETECTED = {"utf_16", "utf_16_le", "utf_16_be", "utf_32", "utf_32_le", "utf_32_be"}
# How an encoding is named to a person (charset-normalizer gives Python codec names).
NAMES = {
    "cp932": "Shift-JIS (CP932)",
    "shift_jis": "Shift-JIS",
    "euc_jp": "EUC-JP",
    "cp1252": "Windows-1252 (Latin-1)",
    "latin_1": "Latin-1 (ISO-8859-1)",
    "iso8859_15": "Latin-9 (ISO-8859-15)",
    "gb18030": "GB18030",
    "big5": "Big5",
    "mac_roman": "Mac Roman",
}


class EncodingError(ValueError):
    """The text is not UTF-8 (and has no byte-order mark saying what it is)."""

    def __init__(self, message: str, encoding: str | None = None) -> None:
        super().__init__(message)
        self.encoding = encoding


def bom_encoding(data: bytes) -> tuple[str, int] | None:
    """(codec, length of the mark) when `data` starts with a byte-order mark."""
    for mark, codec, _name in BOMS:
        if data.startswith(mark):
            return codec, len(mark)
    return None


def detected_encoding(data: bytes) -> str | None:
    """The encoding charset-normalizer finds most likely (e.g. "shift_jis", "cp1252"), or None."""
    best = from_bytes(data[:SAMPLE_BYTES]).best()
    return best.encoding if best is not None else None


def encoding_name(codec: str) -> str:
    return NAMES.get(codec, codec.replace("_", "-").upper())


def _not_valid(what: str, codec: str, byte: int) -> EncodingError:
    return EncodingError(
        f"{what} starts with a {codec.upper()} byte-order mark but is not valid {codec.upper()} "
        f"(byte {byte:,}); save it again as UTF-8",
        codec,
    )


def _not_utf8(what: str, found: str | None, byte: int) -> EncodingError:
    named = f"is encoded as {encoding_name(found)}" if found else "is not UTF-8"
    return EncodingError(
        f"{what} {named}, not UTF-8 (byte {byte:,} is not UTF-8); UTF-8 is required: "
        "save or export it as UTF-8 (in Excel: CSV UTF-8)",
        found,
    )


def decode_chunks(chunks: Iterable[bytes], what: str = "the file") -> Iterator[str]:
    """decode_text a chunk at a time, for text too large to hold: the same byte-order
    marks, the same refusal naming the encoding found (charset-normalizer reads the
    first SAMPLE_BYTES, or the chunk where UTF-8 broke), and never more than a chunk
    (and the first SAMPLE_BYTES) in memory."""
    source = iter(chunks)
    head = b""
    for chunk in source:
        head += chunk
        if len(head) >= SAMPLE_BYTES:
            break
    marked = bom_encoding(head)
    codec, offset = marked if marked is not None else ("utf-8", 0)
    if marked is None:
        try:
            codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        except UnicodeDecodeError as error:
            found = detected_encoding(head)
            if found not in DECODED_WHEN_DETECTED:
                raise _not_utf8(what, found, error.start + 1) from None
            codec = found
    decoder = codecs.getincrementaldecoder(codec)()
    position = offset
    for data, final in _with_last(head[offset:], source):
        try:
            text = decoder.decode(data, final=final)
        except UnicodeDecodeError as error:
            if marked is not None or codec != "utf-8":
                raise _not_valid(what, codec, position + error.start) from None
            raise _not_utf8(what, detected_encoding(data), position + error.start + 1) from None
        position += len(data)
        if text:
            yield text


def _with_last(first: bytes, rest: Iterator[bytes]) -> Iterator[tuple[bytes, bool]]:
    """(chunk, is it the last) for `first`, then the chunks of `rest`, then a final empty one."""
    yield first, False
    for data in rest:
        yield data, False
    yield b"", True


def decode_text(data: bytes, what: str = "the file") -> str:
    """`data` as text: by its byte-order mark, else as UTF-8 (or UTF-16/32 when that
    is what it plainly is). Raises EncodingError naming the encoding found when the
    bytes are not UTF-8. `what` names the text in the message ("the file", "lines.csv")."""
    marked = bom_encoding(data)
    if marked is not None:
        codec, length = marked
        try:
            return data[length:].decode(codec)
        except UnicodeDecodeError as error:
            raise _not_valid(what, codec, error.start + length) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        found = detected_encoding(data)
        if found in DECODED_WHEN_DETECTED:
            try:
                return data.decode(found)
            except UnicodeDecodeError:
                pass
        raise _not_utf8(what, found, error.start + 1) from None
