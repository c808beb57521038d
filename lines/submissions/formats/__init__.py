"""Submission documents as JSON, as a CSV set (zip) or as an XLSX workbook.

The CSV set and the workbook carry the same content as the JSON document,
flattened into tables keyed by local_id (one sheet / one file each):

    donors    one row per donor        local_id, sex, …, als.*, consent.*, viral_screening.<virus>, str_profile.<marker>
    variants  one row per variant      donor (a donor local_id) or line (a line local_id, for a
                                       gene edit's variants), gene, hgvs, protein, …
    lines     one row per line         local_id, donor, name, parental_line, modification.*, reprogramming.*,
                                       culture.*, viral_screening.<virus>, …
    qc        one row per QC record    line (a line local_id), test, method, result, …, str_profile.<marker>
    lots      one row per lot          line (a line local_id), code, type, … (protocol 2)
    vials     one row per vial         line (a line local_id), lot (the lot's code), id, name (protocol 3)

Nested objects are dotted column names (`culture.passage_at_banking`); a map
(STR profile, viral screening) is one column per key (`str_profile.TH01`,
`viral_screening.HIV-1`). Lists go in one cell, items separated by `;`:
    consent.codes   DUO:0000006; DUO:0000046
    germ_layers     ectoderm; mesoderm; endoderm
    markers         OCT4=96; TRA-1-60=91.5        (marker=percent positive; `SOX2` alone for no percent)
    cnvs            20:gain:7.5; 1:loss:5.2:inherited   (chromosome:type:size in Mb[:inherited])
Booleans: yes/no/true/false/1/0. Dates: YYYY-MM-DD (or a date cell). An empty cell
is an absent value. Rows whose first cell starts with `#` are comments (the
blank templates use one to describe each column).

`parse_upload(fileobj, fmt)` returns `(document, locate)`; `locate(pointer)` turns
a finding's JSON pointer into "sheet lines, row 4, column culture.passage_at_banking"
(row numbers as the spreadsheet shows them, header = row 1). A file that cannot be
turned into a document at all (not JSON, not a zip, no lines sheet, an unknown
column, a row pointing at a line that is not in the lines sheet, a cell that cannot
be read) raises TemplateError, whose `findings` list every such problem with its
sheet, row and column; it never raises anything else for bad content.
"""

import orjson

from core.encodings import EncodingError
from core.parsers import load_json
from lines.submissions.formats.columns import (
    COLUMNS,
    FORMATS,
    KEYS,
    README,
    SHEETS,
    STR_PREFIX,
    VIRAL_PREFIX,
    VIRUSES,
    TemplateError,
    place,
    problem,
)
from lines.submissions.formats.csv_set import csv_zip_bytes, read_csv_zip
from lines.submissions.formats.tables import blank_tables, document_to_tables, tables_to_document
from lines.submissions.formats.xlsx import read_xlsx, xlsx_bytes
from lines.submissions.protocol.example import EXAMPLE_DOCUMENT

__all__ = [
    "COLUMNS",
    "EXAMPLE_DOCUMENT",
    "FORMATS",
    "KEYS",
    "README",
    "SHEETS",
    "STR_PREFIX",
    "VIRAL_PREFIX",
    "VIRUSES",
    "TemplateError",
    "blank_csv_template",
    "blank_xlsx_template",
    "document_to_csv_zip",
    "document_to_tables",
    "document_to_xlsx",
    "example_json_document",
    "parse_upload",
    "place",
    "tables_to_document",
]


def parse_upload(fileobj, fmt):
    """(document, locate) from an uploaded file object (binary). fmt: json | csv | xlsx.
    Raises TemplateError (with findings) when the file cannot be read as a submission."""
    data = fileobj.read()
    if isinstance(data, str):
        data = data.encode("utf-8")
    if fmt == "json":
        return _parse_json(data), _locate_json
    if fmt == "csv":
        tables = read_csv_zip(data)
    elif fmt == "xlsx":
        tables = read_xlsx(data)
    else:
        raise TemplateError([problem("", f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")])
    return tables_to_document(tables)


def _parse_json(data):
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        # A NUL is left for the rules to report where it is (results' RES-TEXT); a line
        # submission with one was already refused at intake (core.nul_characters).
        return load_json(data, refuse_nul=False)
    except EncodingError as error:
        raise TemplateError([problem("", str(error))]) from None
    except orjson.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno}" if getattr(error, "lineno", None) else ""
        raise TemplateError([problem(where, f"the file is not valid JSON: {error.msg}")]) from None
    except ValueError as error:  # valid JSON, but nested too deep
        raise TemplateError([problem("", f"the file is not usable JSON: {error}")]) from None


def _locate_json(pointer):
    return pointer


def blank_xlsx_template():
    """The blank XLSX workbook (bytes): README sheet, then donors, variants, lines, qc, lots
    with a header row and a '#' row describing each column."""
    return xlsx_bytes(blank_tables())


def blank_csv_template():
    """The blank CSV set (zip bytes): README.txt, donors.csv, variants.csv, lines.csv, qc.csv, lots.csv, vials.csv."""
    return csv_zip_bytes(blank_tables())


def example_json_document():
    """A complete, valid example document (dict) of protocol v1."""
    return EXAMPLE_DOCUMENT


def document_to_xlsx(document):
    """A filled workbook (bytes) holding `document`."""
    return xlsx_bytes(document_to_tables(document))


def document_to_csv_zip(document):
    """A filled CSV set (zip bytes) holding `document`."""
    return csv_zip_bytes(document_to_tables(document))
