"""The CSV set: a zip of donors.csv, variants.csv, lines.csv and qc.csv (and a README)."""

import csv
import io
import itertools
import zipfile
from collections.abc import Iterable, Iterator

from core.encodings import EncodingError, decode_chunks
from core.spreadsheets import from_spreadsheet_safe, safe_row
from lines.submissions.formats.columns import README, SHEETS, TemplateError, place, problem
from lines.submissions.formats.limits import STREAM_CHUNK, capped_chunks, capped_rows, check_member_size

# The delimiter is chosen on the first characters of the file.
DELIMITER_SAMPLE = 4096


def read_csv_zip(data):
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise TemplateError(
            [
                problem(
                    "",
                    "the CSV set must be a zip of donors.csv, variants.csv, lines.csv and qc.csv",
                )
            ]
        ) from None
    members = {}
    for info in archive.infolist():
        base = info.filename.rsplit("/", 1)[-1].lower()
        if base.endswith(".csv") and not base.startswith(("._", "~")) and base[:-4] in SHEETS:
            members[base[:-4]] = info
    tables, problems = {}, []
    for sheet in SHEETS:
        info = members.get(sheet)
        if info is None:
            continue
        check_member_size(info, place(sheet))
        try:
            # Row by row from the zip: a member is never unpacked whole (limits.py).
            with archive.open(info) as stream:
                chunks = capped_chunks(stream, place(sheet), f"{sheet}.csv")
                tables[sheet] = read_csv_chunks(chunks, f"{sheet}.csv", sheet)
        except EncodingError as error:
            problems.append(problem(place(sheet), str(error)))
            continue
        except zipfile.BadZipFile:
            problems.append(problem(place(sheet), f"{sheet}.csv is damaged in the zip (its checksum does not match)"))
            continue
    if "lines" not in members:
        problems.append(
            problem(
                "",
                "the zip has no lines.csv (expected donors.csv, variants.csv, lines.csv, qc.csv)",
            )
        )
    if problems:
        raise TemplateError(problems)
    return tables


def decode_csv(raw, name="the CSV file", sheet="table"):
    """Rows of one CSV file's bytes (read_csv_chunks)."""
    return read_csv_chunks(
        (raw[start : start + STREAM_CHUNK] for start in range(0, len(raw), STREAM_CHUNK)), name, sheet
    )


def read_csv_chunks(chunks: Iterable[bytes], name="the CSV file", sheet="table"):
    """Rows of a CSV file's bytes, read a chunk at a time: in the encoding its
    byte-order mark names, else UTF-8 (another encoding is an EncodingError naming
    what was found: core.encodings), with the delimiter a spreadsheet used (comma,
    semicolon or tab), refused past SUBMISSION_MAX_SHEET_ROWS rows as soon as the
    reader gets there; formula-like cells this catalog quoted are read back."""
    texts = decode_chunks(chunks, name)
    start: list[str] = []
    for text in texts:
        start.append(text)
        if sum(map(len, start)) >= DELIMITER_SAMPLE:
            break
    sample = "".join(start)[:DELIMITER_SAMPLE]
    delimiter = (
        ";"
        if sample.count(";") > sample.count(",") and "\t" not in sample
        else ("\t" if "\t" in sample.split("\n", 1)[0] else ",")
    )
    rows = capped_rows(csv.reader(_lines(itertools.chain(start, texts)), delimiter=delimiter), sheet)
    # The templates this catalog writes quote formula-like cells (core.spreadsheets).
    return [[from_spreadsheet_safe(cell) for cell in row] for row in rows]


def _lines(pieces: Iterable[str]) -> Iterator[str]:
    """The text's lines, each with its newline (as io.StringIO gives them), from its pieces.
    A line longer than a piece is joined once, not copied again for every piece."""
    partial: list[str] = []
    for text in pieces:
        *complete, last = text.split("\n")
        if complete:
            complete[0] = "".join(partial) + complete[0]
            partial = []
            for line in complete:
                yield line + "\n"
        if last:
            partial.append(last)
    if partial:
        yield "".join(partial)


def csv_zip_bytes(tables, readme=README):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", readme)
        for sheet in SHEETS:
            text = io.StringIO()
            csv.writer(text, lineterminator="\n").writerows(safe_row(row) for row in tables[sheet])
            archive.writestr(f"{sheet}.csv", text.getvalue())
    return buffer.getvalue()
