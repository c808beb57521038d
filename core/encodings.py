"""Reading uploaded text (JSON documents, CSV files, STR batches) in the right encoding.

UTF-8 is what the catalog asks for. A byte-order mark says the encoding outright
(UTF-8, UTF-16, UTF-32: decoded as such). Text without one must be UTF-8; when it
is not, charset-normalizer names what it most likely is, and the error says so
("the file looks like Shift-JIS; save it as UTF-8") instead of guessing: Latin-1
or UTF-16 JSON once failed as "surrogates not allowed", a UTF-16 CSV gave mojibake
column names and Shift-JIS was read silently as cp1252."""

import codecs

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
            raise EncodingError(
                f"{what} starts with a {codec.upper()} byte-order mark but is not valid {codec.upper()} "
                f"(byte {error.start + length:,}); save it again as UTF-8",
                codec,
            ) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        found = detected_encoding(data)
        if found in DECODED_WHEN_DETECTED:
            try:
                return data.decode(found)
            except UnicodeDecodeError:
                pass
        named = f"is encoded as {encoding_name(found)}" if found else "is not UTF-8"
        raise EncodingError(
            f"{what} {named}, not UTF-8 (byte {error.start + 1:,} is not UTF-8); UTF-8 is required: "
            "save or export it as UTF-8 (in Excel: CSV UTF-8)",
            found,
        ) from None
