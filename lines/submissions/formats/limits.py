"""How much of an upload is read: the unpacked size of every zip member (a CSV set,
or the parts of an XLSX workbook, which is a zip too) and the rows of every sheet.

A 309 KB zip may unpack to 120 MB and a 17 MB workbook hold a million rows; both
are refused (settings.SUBMISSION_MAX_MEMBER_BYTES, settings.SUBMISSION_MAX_SHEET_ROWS)
before anything is read in full: intake answers 413 and saves nothing, and the
worker's reader, should a document get past intake (limits lowered since), stops
at the limit with a finding instead of reading on.

Counting is streamed: a zip member's declared size is checked before it is opened
(zipfile never unpacks past it), and rows are counted on the raw bytes (newlines
of a CSV, `<row` elements of a sheet's XML), not on parsed cells. The readers
stream too: a CSV member is decoded and parsed row by row (`capped_chunks`,
`capped_rows`), an XLSX sheet row by row (openpyxl's read-only mode), with the
limits checked as they go, so memory stays bounded by what is kept, never by
what the member unpacks to.
"""

import posixpath
import re
import zipfile
from collections.abc import Iterable, Iterator
from typing import IO, Any

from defusedxml import DefusedXmlException, ElementTree
from django.conf import settings

from lines.submissions.formats.columns import TemplateError, place, problem

CHUNK = 1024 * 1024
# What the readers hold of a member's raw bytes at a time (csv_set reads row by row).
STREAM_CHUNK = 64 * 1024
# A sheet's <row> element, with or without a namespace prefix (<x:row …>).
ROW_ELEMENT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s>/]")


class LimitExceeded(TemplateError):
    """The upload is over a size or row limit (intake answers 413)."""


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):,.0f} MB" if size >= 1024 * 1024 else f"{size:,} bytes"


def check_member_size(info: zipfile.ZipInfo, where: str) -> None:
    """Refuse a zip member that unpacks to more than settings.SUBMISSION_MAX_MEMBER_BYTES."""
    limit = settings.SUBMISSION_MAX_MEMBER_BYTES
    if info.file_size > limit:
        raise LimitExceeded(
            [problem(where, f"{info.filename} unpacks to {_mb(info.file_size)}; at most {_mb(limit)} are accepted")]
        )


def check_archive(archive: zipfile.ZipFile) -> None:
    """Every member of the archive within the unpacked-size limit."""
    for info in archive.infolist():
        check_member_size(info, "")


def capped_chunks(stream: IO[bytes], where: str, name: str) -> Iterator[bytes]:
    """The stream's bytes a chunk at a time, refused once they pass
    settings.SUBMISSION_MAX_MEMBER_BYTES (whatever size the member declared)."""
    limit, read = settings.SUBMISSION_MAX_MEMBER_BYTES, 0
    while chunk := stream.read(STREAM_CHUNK):
        read += len(chunk)
        if read > limit:
            raise LimitExceeded([problem(where, f"{name} unpacks to more than {_mb(limit)}, the most accepted")])
        yield chunk


def _too_many_rows(sheet: str, rows: int) -> LimitExceeded:
    limit = settings.SUBMISSION_MAX_SHEET_ROWS
    return LimitExceeded(
        [problem(place(sheet), f"the sheet has {rows:,} rows or more; at most {limit:,} are accepted")]
    )


def capped_rows(rows: Iterable[Any], sheet: str) -> Iterator[Any]:
    """The rows, refusing the sheet once it passes settings.SUBMISSION_MAX_SHEET_ROWS."""
    limit = settings.SUBMISSION_MAX_SHEET_ROWS
    for count, row in enumerate(rows, start=1):
        if count > limit:
            raise _too_many_rows(sheet, count)
        yield row


def _count(archive: zipfile.ZipFile, name: str, pattern: re.Pattern[bytes], sheet: str) -> int:
    limit = settings.SUBMISSION_MAX_SHEET_ROWS
    count, tail = 0, b""
    with archive.open(name) as stream:
        while chunk := stream.read(CHUNK):
            # Overlap the chunks by a few bytes so that a match split between them counts once.
            data = tail + chunk
            count += len(pattern.findall(data)) - len(pattern.findall(tail))
            tail = data[-16:]
            if count > limit:
                raise _too_many_rows(sheet, count)
    return count


def count_csv_rows(archive: zipfile.ZipFile, info: zipfile.ZipInfo, sheet: str) -> int:
    """Physical lines of a CSV member (an upper bound of its rows), within the limits."""
    check_member_size(info, place(sheet))
    return _count(archive, info.filename, re.compile(rb"\n"), sheet) + 1


def count_sheet_rows(archive: zipfile.ZipFile, path: str, sheet: str) -> int:
    """<row> elements of a worksheet part (the rows that hold anything), within the limits."""
    return _count(archive, path, ROW_ELEMENT, sheet)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _relationships(archive: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """{id: (type, target path in the archive)} of a part's relationships (OOXML)."""
    folder, name = posixpath.split(part)
    rels = posixpath.join(folder, "_rels", f"{name}.rels")
    check_member_size(archive.getinfo(rels), "")
    found = {}
    for element in ElementTree.fromstring(archive.read(rels)):
        if _local(element.tag) == "Relationship":
            target = element.get("Target", "")
            path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
            found[element.get("Id", "")] = (element.get("Type", ""), path)
    return found


def worksheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """{sheet name: path of its XML part}, read from the workbook's own small parts
    (xl/workbook.xml and its relationships) without opening any sheet; {} when the
    file is not laid out as a workbook (openpyxl then says so)."""
    try:
        package = _relationships(archive, "")
        workbook = next((path for kind, path in package.values() if kind.endswith("/officeDocument")), None)
        if workbook is None:
            return {}
        targets = _relationships(archive, workbook)
        check_member_size(archive.getinfo(workbook), "")
        root = ElementTree.fromstring(archive.read(workbook))
    except (KeyError, ElementTree.ParseError, DefusedXmlException):
        return {}
    parts = {}
    for element in root.iter():
        if _local(element.tag) == "sheet":
            rid = next((value for key, value in element.attrib.items() if _local(key) == "id"), None)
            if rid in targets:
                parts[element.get("name", "")] = targets[rid][1]
    return parts


def check_sheet_rows(archive: zipfile.ZipFile) -> dict[str, int]:
    """{sheet name, lower case: its rows}, every sheet within SUBMISSION_MAX_SHEET_ROWS,
    counted on the raw XML before openpyxl opens the workbook: as it loads, openpyxl's
    read-only mode parses a sheet that has no <dimension> in full, holding an element
    per row (a million-row sheet: 80 MB before a single row is read)."""
    rows = {}
    for name, path in worksheet_parts(archive).items():
        sheet = name.strip().lower()
        if path in archive.NameToInfo:
            rows[sheet] = count_sheet_rows(archive, path, sheet)
    return rows
