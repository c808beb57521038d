"""The certificate of analysis and the vial labels are real PDFs: the certificate
names the bank, the tests, methods, results and dates; a label's Code 128 decodes
back (with a barcode reader) to the vial's identifier."""

import hashlib

import pypdfium2
import pytest
import zxingcpp

from stock.actions import StockError
from stock.documents import attach_coa, certificate_of_analysis, vial_labels
from tests.stock.helpers import a_curator, released_lot

pytestmark = pytest.mark.django_db


def _text(pdf_bytes):
    document = pypdfium2.PdfDocument(pdf_bytes)
    return "\n".join(page.get_textpage().get_text_range() for page in document)


def test_the_certificate_lists_the_lots_own_qc_records(settings):
    settings.PRISM_BANK_NAME = "Bonn Stem Cell Bank"
    lot = released_lot(code="MCB01", passage=18)
    text = _text(certificate_of_analysis(lot))
    assert "Bonn Stem Cell Bank" in text
    assert f"Certificate of analysis: {lot.line.name}, lot MCB01" in text
    for words in ("Mycoplasma", "Sterility", "Vector clearance", "pcr", "Pass", "2025-03-10", "passed"):
        assert words in text


def test_an_uploaded_certificate_keeps_its_sha256_and_the_generated_one_cites_it(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    lot = released_lot()
    original = b"%PDF-1.4 the depositor's own certificate"
    digest = attach_coa(lot, original, "UKBi.P001.CoA.pdf", by=a_curator())
    assert digest == hashlib.sha256(original).hexdigest() == lot.coa_sha256
    assert digest in _text(certificate_of_analysis(lot)).replace("\n", "").replace("\r", "")
    with pytest.raises(StockError, match="as a PDF"):
        attach_coa(lot, b"GIF89a", "x.gif", by=a_curator())


def test_a_label_decodes_back_to_the_vial_identifier():
    lot = released_lot(vials=4)
    vials = list(lot.vials.order_by("id"))
    pdf = pypdfium2.PdfDocument(vial_labels(vials))
    image = pdf[0].render(scale=4).to_pil()
    decoded = sorted(result.text for result in zxingcpp.read_barcodes(image))
    assert decoded == sorted(v.identifier for v in vials)
    assert lot.line.name in _text(vial_labels(vials))
