"""Receiving vials by CSV/XLSX: EBiSC's vial rows import as they are; a bad file is
refused whole with every row's problem named, and nothing is written."""

import csv
import io

import pytest
from openpyxl import Workbook

from lines.models import CellLine
from stock.actions import StockError
from stock.models import StockEvent, Vial
from stock.receiving import receive_vials
from tests.factories import CellLineFactory, LotFactory
from tests.stock.helpers import a_box, a_curator, released_lot

pytestmark = pytest.mark.django_db


def _ebisc_rows(reference_data):
    path = reference_data / "hpscreg_ebisc" / "ebisc_batches.csv"
    if not path.exists():
        pytest.skip(f"{path} not found")
    return path.read_bytes(), list(csv.DictReader(io.StringIO(path.read_text())))


def test_the_ebisc_vial_rows_import_as_they_are(reference_data):
    data, rows = _ebisc_rows(reference_data)
    # The lots as EBiSC declares them: line name (the vial name's prefix), batch P001, accession.
    for row in {r["batch"]: r for r in rows}.values():
        line = CellLineFactory(name=row["vial name now"].rsplit(" vial ", 1)[0])
        released_lot(line, code=row["batch name"], accession=row["batch"], lot_type="depositor")
    report = receive_vials(data, by=a_curator(), filename="ebisc_batches.csv")
    assert report.vials == 750 == Vial.objects.count()
    assert len(report.lots) == 15
    vial = Vial.objects.get(identifier="SAMEA103883939")
    assert (vial.name, vial.lot.accession, vial.lot.line.name) == ("UKKi023-A vial 01", "SAMEG317574", "UKKi023-A")
    line = CellLine.objects.get(name="UKKi023-A")
    assert line.vials_in_stock == 50
    assert line.stock_summary["label"] == "Available (50 vials in 1 lot)"


def test_a_bad_file_is_refused_whole_naming_every_rows_problem():
    curator = a_curator()
    box = a_box(code="box-a", rows=2, columns=2)
    lot = released_lot(vials=1, box=box, accession="SAMEG1")  # takes A1 of box-a
    taken = lot.vials.get()
    text = (
        "vial,batch,box,position\n"
        "SAMEA1,SAMEG1,box-a,A2\n"
        "SAMEA1,SAMEG1,box-a,B1\n"  # repeated id
        f"{taken.identifier},SAMEG1,,\n"  # already in stock
        "SAMEA3,SAMEG404,box-a,B2\n"  # unknown lot
        "SAMEA4,SAMEG1,box-z,B2\n"  # unknown box
        "SAMEA5,SAMEG1,box-a,A1\n"  # well taken
        "SAMEA6,SAMEG1,box-a,A2\n"  # same well as row 2
        "SAMEA7,SAMEG1,box-a,C9\n"  # outside the box
    )
    with pytest.raises(StockError) as refused:
        receive_vials(text.encode(), by=curator)
    problems = refused.value.problems["rows"]
    assert problems == [
        "row 3, vial: SAMEA1 is repeated (first on row 2)",
        f"row 4, vial: {taken.identifier} is already in stock",
        "row 5, lot: unknown lot SAMEG404",
        "row 6, box: unknown box box-z",
        "row 7, position: box-a A1 is already taken",
        "row 8, position: box-a A2 is also on row 2",
        "row 9, position: box-a has 2 rows and 2 columns",
    ]
    assert Vial.objects.count() == 1
    assert not StockEvent.objects.filter(action="received").exists()


def test_an_xlsx_file_with_lot_codes_and_wells_is_received():
    line = CellLineFactory(name="UKBi011-A")
    released_lot(line, code="MCB01")
    box = a_box(code="ln2-1-r3-b7")
    book = Workbook()
    sheet = book.active
    sheet.append(["Vial ID", "Line", "Lot code", "Box", "Position"])
    sheet.append(["", "UKBi011-A", "MCB01", "ln2-1-r3-b7", "A1"])
    sheet.append(["SAMEA77", "UKBi011-A", "MCB01", "ln2-1-r3-b7", "B3"])
    out = io.BytesIO()
    book.save(out)
    report = receive_vials(out.getvalue(), by=a_curator(), filename="vials.xlsx")
    assert report.vials == 2
    minted, given = Vial.objects.order_by("identifier")
    assert minted.identifier.startswith("PRV-") and minted.position == "A1"
    assert (given.identifier, given.location, given.position) == ("SAMEA77", box, "B3")


def test_a_lot_code_of_another_line_is_an_unknown_lot():
    released_lot(CellLineFactory(name="UKBi011-A"), code="MCB01")
    CellLineFactory(name="UKBi012-A")
    with pytest.raises(StockError) as refused:
        receive_vials(b"vial,line,lot code\nX1,UKBi012-A,MCB01\n", by=a_curator())
    assert refused.value.problems["rows"] == ["row 2, lot: unknown lot MCB01 of UKBi012-A"]


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "The file is empty"),
        (b"vial,batch\n", "no vials"),
        (b"vial,colour\nX1,blue\n", "needs a lot column"),
        (b"\xff\xfe\x00bad", "not UTF-8"),
    ],
)
def test_a_file_that_is_not_a_vial_table_is_refused_saying_why(data, message):
    with pytest.raises(StockError, match=message):
        receive_vials(data, by=a_curator())


def test_only_curators_receive_stock(depositor):
    LotFactory(accession="SAMEG1")
    with pytest.raises(StockError) as refused:
        receive_vials(b"vial,batch\nX1,SAMEG1\n", by=depositor)
    assert refused.value.status_code == 403
    assert not Vial.objects.exists()
