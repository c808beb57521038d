"""PDFs made from stock: a lot's certificate of analysis and sheets of vial labels.

Both are drawn with ReportLab (platypus for the certificate; its barcode module for
the labels' Code 128, which holds the vial identifier exactly, so a USB scanner
typing it into the stock page finds the vial; ReportLab's DataMatrix was tried and
decodes with a trailing NUL, which a scanner would type). An uploaded certificate is
kept with its SHA-256 (attach_coa) and the generated one lists it.
"""

import datetime
import hashlib
import io
from collections.abc import Sequence

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode import createBarcodeDrawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from lines.models import QCRecord, QCTest
from lines.qc import latest_by_test
from stock.actions import StockError, check_curator
from stock.models import Lot, StockEvent, Vial

MAX_COA_BYTES = 20 * 1024 * 1024
LABEL_COLUMNS, LABEL_ROWS = 3, 9


def sha256_of_file(field: FieldFile) -> str:
    """SHA-256 of a stored file ('' when there is none or it is missing)."""
    if not field:
        return ""
    digest = hashlib.sha256()
    try:
        with field.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 16), b""):
                digest.update(chunk)
    except FileNotFoundError:
        return ""
    return digest.hexdigest()


def attach_coa(lot: Lot, data: bytes, filename: str, *, by: User) -> str:
    """Keep an uploaded certificate (PDF) on the lot, with its SHA-256."""
    check_curator(by)
    if not data.startswith(b"%PDF-"):
        raise StockError("A certificate of analysis is uploaded as a PDF.", {"file": "not a PDF"})
    if len(data) > MAX_COA_BYTES:
        raise StockError("A certificate of analysis is at most 20 MB.", {"file": "too large"})
    digest = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        lot.coa_file.save(f"{lot.line.name}.{lot.code}.CoA.pdf", ContentFile(data), save=False)
        lot.coa_sha256 = digest
        lot.save(update_fields=["coa_file", "coa_sha256"])
        StockEvent.objects.create(
            action="coa_uploaded", actor=by, lot=lot, line_id=lot.line_id, details={"sha256": digest, "file": filename}
        )
    return digest


def _latest_records(lot: Lot) -> list[QCRecord]:
    records = list(lot.qc_records.all())
    latest = latest_by_test((r, r.test, r.tested_on) for r in records)
    order = {value: n for n, value in enumerate(QCTest.values)}
    return sorted(latest.values(), key=lambda r: order.get(r.test, 99))


def certificate_of_analysis(lot: Lot, *, now: datetime.datetime | None = None) -> bytes:
    """The lot's certificate of analysis as PDF bytes, from its own QC records."""
    now = now or timezone.now()
    styles = getSampleStyleSheet()
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out, pagesize=A4, title=f"Certificate of analysis {lot.line.name} {lot.code}", author=settings.PRISM_BANK_NAME
    )
    cell = styles["BodyText"]
    facts = [
        ("Line", lot.line.name),
        (
            "Lot",
            f"{lot.code} ({lot.get_lot_type_display()})" + (f", BioSamples {lot.accession}" if lot.accession else ""),
        ),
        ("Status", lot.get_status_display() + (f": {lot.status_reason}" if lot.status_reason else "")),
        ("Passage at freezing", lot.passage or "—"),
        ("Frozen on", lot.frozen_on.isoformat() if lot.frozen_on else "—"),
        ("Medium / matrix", f"{lot.medium or '—'} / {lot.matrix or '—'}"),
        ("Cryo-medium, freezing", f"{lot.cryo_medium or '—'}, {lot.freezing_method or '—'}"),
        ("Vials made", lot.vials_made or "—"),
        ("Thawing", lot.thaw_recommendation or "—"),
        ("QC panel verdict", lot.qc_status),
    ]
    story = [
        Paragraph(settings.PRISM_BANK_NAME, styles["Heading2"]),
        Paragraph(f"Certificate of analysis: {lot.line.name}, lot {lot.code}", styles["Title"]),
        Table([[k, Paragraph(str(v), cell)] for k, v in facts], colWidths=[45 * mm, 125 * mm]),
        Spacer(1, 6 * mm),
        Paragraph("Quality control", styles["Heading3"]),
    ]
    rows = [["Test", "Method", "Result", "Date", "Laboratory", "Original (SHA-256)"]]
    for record in _latest_records(lot):
        digest = sha256_of_file(record.document)
        rows.append(
            [
                Paragraph(record.get_test_display(), cell),
                Paragraph(record.method or "—", cell),
                record.get_result_display(),
                record.tested_on.isoformat() if record.tested_on else "—",
                Paragraph(record.testing_lab or "—", cell),
                Paragraph(digest[:16] + "…" if digest else "—", cell),
            ]
        )
    if len(rows) == 1:
        rows.append(["No QC records on this lot", "", "", "", "", ""])
    table = Table(rows, colWidths=[38 * mm, 28 * mm, 20 * mm, 22 * mm, 32 * mm, 30 * mm], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef4")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    story.append(table)
    if lot.coa_sha256:
        story += [Spacer(1, 4 * mm), Paragraph(f"Uploaded original certificate, SHA-256 {lot.coa_sha256}", cell)]
    story += [Spacer(1, 6 * mm), Paragraph(f"Generated {now:%Y-%m-%d %H:%M} UTC by {settings.PRISM_BANK_NAME}.", cell)]
    doc.build(story)
    return out.getvalue()


def vial_labels(vials: Sequence[Vial]) -> bytes:
    """A4 sheets of labels (3 × 9 a page): a Code 128 of the identifier, then the
    identifier, line and lot in words."""
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4)
    pdf.setTitle("Vial labels")
    width, height = A4
    label_w, label_h = (width - 20 * mm) / LABEL_COLUMNS, (height - 20 * mm) / LABEL_ROWS
    per_page = LABEL_COLUMNS * LABEL_ROWS
    for n, vial in enumerate(vials):
        if n and n % per_page == 0:
            pdf.showPage()
        slot = n % per_page
        x = 10 * mm + (slot % LABEL_COLUMNS) * label_w
        y = height - 10 * mm - (slot // LABEL_COLUMNS + 1) * label_h
        code = createBarcodeDrawing(
            "Code128", value=vial.identifier, barWidth=0.25 * mm, barHeight=9 * mm, humanReadable=False, quiet=True
        )
        renderPDF.draw(code, pdf, x + 2 * mm, y + label_h - code.height - 3 * mm)
        pdf.setFont("Helvetica-Bold", 8)
        pdf.drawString(x + 4 * mm, y + label_h - code.height - 7 * mm, vial.identifier)
        pdf.setFont("Helvetica", 7)
        pdf.drawString(x + 4 * mm, y + label_h - code.height - 11 * mm, f"{vial.lot.line.name}  lot {vial.lot.code}")
    if not vials:
        pdf.drawString(20 * mm, height - 20 * mm, "No vials.")
    pdf.save()
    return out.getvalue()
