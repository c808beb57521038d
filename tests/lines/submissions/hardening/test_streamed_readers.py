"""The readers stream: a CSV-set member and an XLSX sheet are read row by row with
the limits checked as they go, so a member that unpacks to 120 MB (a 309 KB zip
took a worker to 5.6 GB) is refused with memory bounded by what is kept, never by
what the member unpacks to. Memory is measured with tracemalloc."""

import codecs
import io
import tracemalloc
import zipfile

import pytest

from core.encodings import EncodingError
from lines.submissions.formats import TemplateError
from lines.submissions.formats.columns import SHEETS
from lines.submissions.formats.csv_set import decode_csv, read_csv_zip
from lines.submissions.formats.limits import STREAM_CHUNK, LimitExceeded, capped_chunks
from lines.submissions.formats.xlsx import read_xlsx, xlsx_bytes

MB = 1024 * 1024
UNPACKED = 120 * MB
# Well under the unpacked size: what a reader may hold while it refuses the member.
MEMORY_BOUND = 16 * MB
QC_ROW = b"UKBi001-A,mycoplasma,negative,2024-01-01\n"


@pytest.fixture(scope="module")
def csv_zip_with_a_huge_qc():
    """A small zip (deflate) whose qc.csv unpacks to 120 MB of short rows."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("lines.csv", "name,donor\nUKBi001-A,PD-1\n")
        with archive.open("qc.csv", "w", force_zip64=True) as member:
            member.write(b"line,test,result,date\n")
            block, written = QC_ROW * (MB // len(QC_ROW)), 0
            while written < UNPACKED:
                member.write(block)
                written += len(block)
    data = buffer.getvalue()
    assert len(data) < UNPACKED // 100
    return data


@pytest.fixture(scope="module")
def workbook_with_a_huge_qc_sheet():
    """An XLSX workbook whose qc sheet holds 1,000,000 rows (about 60 MB of sheet XML)."""
    small = xlsx_bytes({sheet: [["name"], ["x"]] for sheet in SHEETS})
    qc_part = f"xl/worksheets/sheet{SHEETS.index('qc') + 2}.xml"
    source, buffer = zipfile.ZipFile(io.BytesIO(small)), io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename != qc_part:
                target.writestr(info, source.read(info))
                continue
            with target.open(qc_part, "w", force_zip64=True) as member:
                member.write(
                    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
                )
                for start in range(1, 1_000_001, 10_000):
                    member.write(
                        b"".join(
                            b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>QC</t></is></c></row>' % (n, n)
                            for n in range(start, start + 10_000)
                        )
                    )
                member.write(b"</sheetData></worksheet>")
    return buffer.getvalue()


def _peak_while_refused(read):
    tracemalloc.start()
    try:
        with pytest.raises(TemplateError) as refused:
            read()
        return tracemalloc.get_traced_memory()[1], refused.value
    finally:
        tracemalloc.stop()


def test_a_csv_member_past_the_row_limit_is_refused_as_it_is_read(csv_zip_with_a_huge_qc, settings):
    # Its declared size is allowed here: only streaming keeps the reader from unpacking it all.
    settings.SUBMISSION_MAX_MEMBER_BYTES = 4 * UNPACKED
    settings.SUBMISSION_MAX_SHEET_ROWS = 10_000

    peak, error = _peak_while_refused(lambda: read_csv_zip(csv_zip_with_a_huge_qc))

    assert isinstance(error, LimitExceeded)
    assert error.findings[0]["location"] == "sheet qc"
    assert "at most 10,000 are accepted" in error.findings[0]["message"]
    assert peak < MEMORY_BOUND, f"{peak / MB:.1f} MB held to refuse a 120 MB member"


def test_a_csv_member_over_the_size_limit_is_refused_before_it_is_unpacked(csv_zip_with_a_huge_qc, settings):
    settings.SUBMISSION_MAX_MEMBER_BYTES = 8 * MB

    peak, error = _peak_while_refused(lambda: read_csv_zip(csv_zip_with_a_huge_qc))

    assert isinstance(error, LimitExceeded)
    assert "at most 8 MB are accepted" in error.findings[0]["message"]
    assert peak < MEMORY_BOUND


def test_the_bytes_read_are_counted_whatever_size_a_member_declared(settings):
    settings.SUBMISSION_MAX_MEMBER_BYTES = MB

    class Endless(io.RawIOBase):
        served = 0

        def read(self, size=-1):
            self.served += size
            return b"x" * size

    stream = Endless()
    with pytest.raises(LimitExceeded) as refused:
        for _chunk in capped_chunks(stream, "sheet qc", "qc.csv"):
            pass

    assert "qc.csv unpacks to more than 1 MB" in refused.value.findings[0]["message"]
    assert stream.served <= MB + STREAM_CHUNK


def test_a_sheet_past_the_row_limit_is_refused_as_it_is_read(workbook_with_a_huge_qc_sheet, settings):
    settings.SUBMISSION_MAX_MEMBER_BYTES = 4 * UNPACKED
    settings.SUBMISSION_MAX_SHEET_ROWS = 1_000

    peak, error = _peak_while_refused(lambda: read_xlsx(workbook_with_a_huge_qc_sheet))

    assert isinstance(error, LimitExceeded)
    assert error.findings[0]["location"] == "sheet qc"
    assert "at most 1,000 are accepted" in error.findings[0]["message"]
    assert peak < MEMORY_BOUND, f"{peak / MB:.1f} MB held to refuse a 1,000,000-row sheet"


def test_a_csv_set_within_the_limits_is_read_whole(csv_zip_with_a_huge_qc, settings):
    settings.SUBMISSION_MAX_MEMBER_BYTES = 4 * UNPACKED
    settings.SUBMISSION_MAX_SHEET_ROWS = 10_000_000
    small = io.BytesIO()
    with zipfile.ZipFile(small, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("lines.csv", "name,donor\r\nUKBi001-A,PD-1\r\n")
        archive.writestr("qc.csv", b"line,test\n" + b'UKBi001-A,"two\nlines"\n' * 100_000)

    tables = read_csv_zip(small.getvalue())

    assert tables["lines"] == [["name", "donor"], ["UKBi001-A", "PD-1"]]
    assert len(tables["qc"]) == 100_001 and tables["qc"][-1] == ["UKBi001-A", "two\nlines"]


def test_a_character_split_between_two_chunks_is_read_as_one():
    text = "name\n" + "é" * STREAM_CHUNK + "\n"

    rows = decode_csv(text.encode("utf-8"))

    assert rows == [["name"], ["é" * STREAM_CHUNK]]


def test_text_that_stops_being_utf8_late_in_the_file_is_refused_saying_where():
    raw = b"name\n" + b"UKBi001-A\n" * 20_000 + "名前\n".encode("shift_jis")

    with pytest.raises(EncodingError) as refused:
        decode_csv(raw, "qc.csv")

    # The same place decode_text names for the whole file at once.
    first_bad = raw.index("名".encode("shift_jis")) + 1
    assert f"byte {first_bad:,} is not UTF-8" in str(refused.value)
    assert "UTF-8 is required" in str(refused.value)


def test_a_utf16_file_with_its_mark_is_decoded_across_chunks():
    text = "name,donor\n" + "UKBi001-A,PD-1\n" * 20_000

    rows = decode_csv(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))

    assert rows[0] == ["name", "donor"] and len(rows) == 20_001 and rows[-1] == ["UKBi001-A", "PD-1"]
