"""A workbook whose <dimension> tags are stale (many tools write them) is read in
full or refused, never read short: a 3-line workbook was validated as 1 line and
approval wrote 1 line."""

import io
import re
import zipfile

import pytest

from lines.submissions.formats import TemplateError, document_to_xlsx, parse_upload
from tests.documents import valid_document

pytestmark = pytest.mark.django_db


def _with_dimension(content, ref, sheet_number=None):
    """The workbook with the <dimension> of every sheet (or one) rewritten to `ref`."""
    source, out = zipfile.ZipFile(io.BytesIO(content)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", info.filename) and (
                sheet_number is None or info.filename == f"xl/worksheets/sheet{sheet_number}.xml"
            ):
                data = re.sub(rb'<dimension ref="[^"]*"\s*/>', f'<dimension ref="{ref}"/>'.encode(), data)
            target.writestr(info, data)
    return out.getvalue()


def _without_dimension(content):
    source, out = zipfile.ZipFile(io.BytesIO(content)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = re.sub(rb'<dimension ref="[^"]*"\s*/>', b"", source.read(info))
            target.writestr(info, data)
    return out.getvalue()


def test_a_workbook_with_a_stale_dimension_is_refused_naming_the_sheet_and_its_sizes():
    content = _with_dimension(document_to_xlsx(valid_document(3, lines_per_donor=3)), "A1:ZZ2")
    with pytest.raises(TemplateError) as refused:
        parse_upload(io.BytesIO(content), "xlsx")
    messages = {f["location"]: f["message"] for f in refused.value.findings}
    assert "sheet lines" in messages
    assert "declares its size as A1:ZZ2" in messages["sheet lines"]
    assert "save it again" in messages["sheet lines"]


def test_a_workbook_without_dimensions_is_read_in_full():
    document = valid_document(3, lines_per_donor=3)
    parsed, _ = parse_upload(io.BytesIO(_without_dimension(document_to_xlsx(document))), "xlsx")
    assert [line["local_id"] for line in parsed["lines"]] == [line["local_id"] for line in document["lines"]]


def test_a_dimension_larger_than_the_data_is_no_disagreement():
    document = valid_document(3, lines_per_donor=3)
    parsed, _ = parse_upload(io.BytesIO(_with_dimension(document_to_xlsx(document), "A1:ZZ900")), "xlsx")
    assert len(parsed["lines"]) == 3
