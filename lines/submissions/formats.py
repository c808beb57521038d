"""Submission documents as JSON, as a CSV set (zip) or as an XLSX workbook.

The CSV set and the workbook carry the same content as the JSON document,
flattened into four tables keyed by local_id (one sheet / one file each):

    donors    one row per donor        local_id, sex, …, als.*, consent.*, viral_screening.<virus>, str_profile.<marker>
    variants  one row per variant      donor (a donor local_id) or line (a line local_id, for a
                                       gene edit's variants), gene, hgvs, protein, …
    lines     one row per line         local_id, donor, name, parental_line, modification.*, reprogramming.*,
                                       culture.*, viral_screening.<virus>, …
    qc        one row per QC record    line (a line local_id), test, method, result, …, str_profile.<marker>

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

import csv
import datetime
import io
import re
import zipfile

import orjson

from lines.submissions.protocol.example import EXAMPLE_DOCUMENT

SHEETS = ("donors", "variants", "lines", "qc")
STR_PREFIX = "str_profile."
VIRAL_PREFIX = "viral_screening."
VIRUSES = ("HIV-1", "HIV-2", "HBV", "HCV")
FORMATS = ("json", "csv", "xlsx")

# Column → (kind, description). Kinds: text, int, number, bool, date, list, markers, cnvs.
COLUMNS = {
    "donors": {
        "local_id": ("text", "Unique id of the donor in this file, e.g. D1"),
        "sex": ("text", "female | male | unknown | undifferentiated"),
        "age_at_sampling": ("int", "Whole years"),
        "ancestry": ("text", "African | Admixed American | East Asian | European | Middle Eastern | South Asian | Oceanian | unknown"),
        "disease": ("text", "MONDO id, e.g. MONDO:0004976 (empty for a healthy control)"),
        "als.family_history": ("text", "familial | sporadic | unknown"),
        "als.onset_site": ("text", "bulbar | spinal | respiratory | generalized | unknown"),
        "als.age_at_onset": ("int", "Whole years"),
        "als.alsfrs_r": ("int", "0–48"),
        "als.alsfrs_r_date": ("date", "YYYY-MM-DD"),
        "als.progression_rate": ("number", "ALSFRS-R points lost per month"),
        "als.c9orf72_repeats": ("int", "G4C2 repeat count"),
        "als.atxn2_repeats": ("int", "CAG repeat count"),
        "consent.codes": ("list", "DUO CURIEs separated by ;  e.g. DUO:0000006; DUO:0000046"),
        "consent.disease": ("text", "MONDO id of the consented disease (needed with DS, DUO:0000007)"),
        "consent.genetic_data": ("text", "open | controlled | none"),
        "consent.recontact": ("bool", "yes | no"),
        "consent.obtained_on": ("date", "YYYY-MM-DD"),
        "consent.withdrawn_on": ("date", "YYYY-MM-DD (empty unless withdrawn)"),
        "consent.withdrawal_reason": ("text", ""),
        "consent.document_reference": ("text", "Consent form version or id"),
        **{f"{VIRAL_PREFIX}{virus}": ("text", "negative | positive | inconclusive | not_tested") for virus in VIRUSES},
        **{f"{STR_PREFIX}{marker}": ("alleles", "Alleles, e.g. 11,12") for marker in (
            "Amelogenin", "CSF1PO", "D2S1338", "D3S1358", "D5S818", "D7S820", "D8S1179", "D13S317", "D16S539",
            "D18S51", "D19S433", "D21S11", "FGA", "Penta D", "Penta E", "TH01", "TPOX", "vWA")},
    },
    "variants": {
        "donor": ("text", "Donor local_id (a germline variant of the donor)"),
        "line": ("text", "Line local_id (a variant made by the line's gene edit); fill donor or line"),
        "gene": ("text", "Approved HGNC symbol, e.g. SOD1"),
        "hgvs": ("text", "e.g. NM_000454.5:c.14C>T"),
        "protein": ("text", "e.g. p.Ala5Val (HGVS counts Met1: SOD1 A4V is p.Ala5Val)"),
        "legacy_name": ("text", "e.g. A4V"),
        "zygosity": ("text", "heterozygous | homozygous | hemizygous | compound_heterozygous"),
        "classification": ("text", "pathogenic | likely_pathogenic | uncertain | likely_benign | benign | risk_factor"),
        "repeat_size": ("int", "For repeat expansions"),
    },
    "lines": {
        "local_id": ("text", "Unique id of the line in this file, e.g. L1"),
        "donor": ("text", "Donor local_id in this file, or a catalog donor code"),
        "name": ("text", "hPSCreg name, e.g. UKBi001-A; empty to have one assigned on approval"),
        "parental_line": ("text", "Line local_id or catalog line name (modified lines only)"),
        "modification.type": ("text", "none | knock_in | knock_out | gene_correction | reporter | other"),
        "modification.gene": ("text", "Edited gene (HGNC symbol)"),
        "modification.description": ("text", ""),
        "source_cell_type": ("text", "Cell Ontology id, e.g. CL:0000057 (fibroblast)"),
        "reprogramming.method": ("text", "sendai | episomal | mrna | lentivirus | retrovirus | other"),
        "reprogramming.description": ("text", ""),
        "derived_on": ("date", "YYYY-MM-DD"),
        "culture.medium": ("text", "e.g. mTeSR Plus"),
        "culture.matrix": ("text", "e.g. Matrigel"),
        "culture.passage_at_banking": ("int", "1–200"),
        "cellosaurus": ("text", "e.g. CVCL_1234"),
        **{f"{VIRAL_PREFIX}{virus}": ("text", "negative | positive | inconclusive | not_tested") for virus in VIRUSES},
        "comments": ("text", ""),
    },
    "qc": {
        "line": ("text", "Line local_id"),
        "test": ("text", "identity | genomic_integrity | mycoplasma | sterility | pluripotency | trilineage | vector_clearance | viral_screening | post_thaw"),
        "method": ("text", "e.g. str, g_banding, snp_array, pcr, culture, flow, immunostaining, rt_pcr"),
        "result": ("text", "pass | fail | inconclusive"),
        "passage": ("int", "Passage tested"),
        "date": ("date", "YYYY-MM-DD"),
        "testing_lab": ("text", ""),
        "notes": ("text", ""),
        "bands": ("int", "G-banding resolution (≥ 400)"),
        "karyotype": ("text", "e.g. 46,XX"),
        "donor_inherited": ("bool", "yes if the abnormality is also in the donor"),
        "cnvs": ("cnvs", "chromosome:type:size_mb[:inherited]; …  e.g. 20:gain:7.5"),
        "markers": ("markers", "marker=percent; …  e.g. OCT4=96; TRA-1-60=91.5"),
        "germ_layers": ("list", "ectoderm; mesoderm; endoderm"),
        **{f"{VIRAL_PREFIX}{virus}": ("text", "negative | positive | inconclusive | not_tested") for virus in VIRUSES},
        **{f"{STR_PREFIX}{marker}": ("alleles", "Alleles, e.g. 11,12") for marker in (
            "Amelogenin", "CSF1PO", "D2S1338", "D3S1358", "D5S818", "D7S820", "D8S1179", "D13S317", "D16S539",
            "D18S51", "D19S433", "D21S11", "FGA", "Penta D", "Penta E", "TH01", "TPOX", "vWA")},
    },
}
# The key that ties a row to its parent, per sheet.
KEYS = {"donors": "local_id", "variants": None, "lines": "local_id", "qc": "line"}


class TemplateError(ValueError):
    """The upload cannot be read as a submission. `findings` lists every problem found,
    each a finding dict (rule SCHEMA) whose location names the sheet, row and column."""

    def __init__(self, findings):
        self.findings = findings
        super().__init__("; ".join(f"{f['location']}: {f['message']}" for f in findings[:5]))


def _problem(location, message):
    return {"rule": "SCHEMA", "severity": "error", "location": location, "message": message,
            "line": None, "donor": None}


def place(sheet, row=None, column=None):
    text = f"sheet {sheet}"
    if row is not None:
        text += f", row {row}"
    if column:
        text += f", column {column}"
    return text


# ---------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------


def parse_upload(fileobj, fmt):
    """(document, locate) from an uploaded file object (binary). fmt: json | csv | xlsx.
    Raises TemplateError (with findings) when the file cannot be read as a submission."""
    data = fileobj.read()
    if isinstance(data, str):
        data = data.encode("utf-8")
    if fmt == "json":
        return _parse_json(data), _locate_json
    if fmt == "csv":
        tables = _read_csv_zip(data)
    elif fmt == "xlsx":
        tables = _read_xlsx(data)
    else:
        raise TemplateError([_problem("", f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")])
    return tables_to_document(tables)


def _parse_json(data):
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno}" if getattr(error, "lineno", None) else ""
        raise TemplateError([_problem(where, f"the file is not valid JSON: {error.msg}")]) from None


def _locate_json(pointer):
    return pointer


def _read_csv_zip(data):
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise TemplateError([_problem("", "the CSV set must be a zip of donors.csv, variants.csv, lines.csv "
                                          "and qc.csv")]) from None
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
        if info.file_size > 200 * 1024 * 1024:
            problems.append(_problem(place(sheet), "the file is larger than 200 MB"))
            continue
        raw = archive.read(info)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("cp1252", errors="replace")
        sample = text[:4096]
        delimiter = ";" if sample.count(";") > sample.count(",") and "\t" not in sample else (
            "\t" if "\t" in sample.split("\n", 1)[0] else ",")
        tables[sheet] = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    if "lines" not in tables:
        problems.append(_problem("", "the zip has no lines.csv (expected donors.csv, variants.csv, lines.csv, qc.csv)"))
    if problems:
        raise TemplateError(problems)
    return tables


def _read_xlsx(data):
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 — openpyxl raises many kinds for a file that is not a workbook
        raise TemplateError([_problem("", "the file is not an XLSX workbook")]) from None
    tables = {}
    names = {name.strip().lower(): name for name in workbook.sheetnames}
    for sheet in SHEETS:
        if sheet in names:
            tables[sheet] = [list(row) for row in workbook[names[sheet]].iter_rows(values_only=True)]
    workbook.close()
    if "lines" not in tables:
        raise TemplateError([_problem("", f"the workbook has no 'lines' sheet (sheets: {', '.join(names) or 'none'})")])
    return tables


def _blank(value):
    return value is None or (isinstance(value, str) and not value.strip())


def _convert(kind, value, location, problems):
    """A cell's value as the document wants it. A value of the wrong type is kept as text
    so that the JSON Schema pass reports it at this cell; only list cells that cannot be
    split into items at all are template problems."""
    if isinstance(value, str):
        value = value.strip()
    if kind == "text":
        if isinstance(value, datetime.datetime):
            return value.date().isoformat()
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value) if not isinstance(value, str) else value
    if kind == "alleles":
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)
    if kind == "int":
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            return value
        if isinstance(value, float):
            return int(value) if value.is_integer() else value
        if re.fullmatch(r"[-+]?\d+", value):
            return int(value)
        if re.fullmatch(r"[-+]?\d+\.0*", value):
            return int(float(value))
        return value
    if kind == "number":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
        try:
            return float(value.replace(",", ".")) if re.fullmatch(r"[-+]?\d+([.,]\d+)?", value) else value
        except ValueError:
            return value
    if kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("yes", "y", "true", "1", "1.0"):
            return True
        if text in ("no", "n", "false", "0", "0.0"):
            return False
        return str(value)
    if kind == "date":
        if isinstance(value, datetime.datetime):
            return value.date().isoformat()
        if isinstance(value, datetime.date):
            return value.isoformat()
        return str(value)
    if kind == "list":
        return [item.strip() for item in re.split(r"[;|\n]", str(value)) if item.strip()]
    if kind == "markers":
        markers = []
        for item in re.split(r"[;|\n]", str(value)):
            item = item.strip()
            if not item:
                continue
            name, _, percent = item.partition("=")
            percent = percent.strip().rstrip("%").strip()
            entry = {"marker": name.strip()}
            if percent:
                try:
                    entry["percent_positive"] = float(percent.replace(",", "."))
                except ValueError:
                    problems.append(_problem(location, f"marker {item!r}: the percent after '=' is not a number "
                                                       "(write e.g. OCT4=96)"))
                    continue
            markers.append(entry)
        return markers
    if kind == "cnvs":
        cnvs = []
        for item in re.split(r"[;|\n]", str(value)):
            item = item.strip()
            if not item:
                continue
            parts = [p.strip() for p in item.split(":")]
            try:
                if len(parts) not in (3, 4):
                    raise ValueError
                cnv = {"chromosome": parts[0].removeprefix("chr"), "type": parts[1],
                       "size_mb": float(parts[2].lower().removesuffix("mb").strip().replace(",", "."))}
                if len(parts) == 4:
                    if parts[3].lower() not in ("inherited", "donor_inherited", "yes", "true"):
                        raise ValueError
                    cnv["donor_inherited"] = True
            except ValueError:
                problems.append(_problem(location, f"CNV {item!r} is not chromosome:type:size_mb[:inherited] "
                                                   "(e.g. 20:gain:7.5)"))
                continue
            cnvs.append(cnv)
        return cnvs
    return value


def _set_dotted(target, column, value):
    if column.startswith(STR_PREFIX) or column.startswith(VIRAL_PREFIX):
        head, key = column.split(".", 1)
        target.setdefault(head, {})[key] = value
        return
    parts = column.split(".")
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    target[parts[-1]] = value


def _column_kind(sheet, column):
    if column in COLUMNS[sheet]:
        return COLUMNS[sheet][column][0]
    if column.startswith(STR_PREFIX) and sheet in ("donors", "qc"):
        return "alleles"
    if column.startswith(VIRAL_PREFIX) and sheet in ("donors", "lines", "qc"):
        return "text"
    return None


def _rows(sheet, table, problems):
    """(row number, {column: value}) for each data row, and the header's columns."""
    header_index = next((i for i, row in enumerate(table) if any(not _blank(c) for c in row)), None)
    if header_index is None:
        return [], []
    header = ["" if _blank(c) else str(c).strip() for c in table[header_index]]
    columns = []
    for position, column in enumerate(header):
        if not column:
            continue
        if _column_kind(sheet, column) is None:
            problems.append(_problem(place(sheet, header_index + 1, column),
                                     f"unknown column {column!r} in sheet {sheet} (check the spelling against "
                                     "the blank template)"))
            continue
        columns.append((position, column))
    rows = []
    for index in range(header_index + 1, len(table)):
        row = table[index]
        if not row or all(_blank(c) for c in row):
            continue
        first = row[0] if row else None
        if isinstance(first, str) and first.strip().startswith("#"):
            continue
        values = {}
        for position, column in columns:
            value = row[position] if position < len(row) else None
            if not _blank(value):
                values[column] = value
        rows.append((index + 1, values))
    return rows, [c for _p, c in columns]


def tables_to_document(tables):
    """(document, locate) from the four tables (lists of rows, header first)."""
    problems = []
    origins = {}  # tuple path → (sheet, row)
    donors, lines = [], []
    donor_position, line_position = {}, {}

    def build(sheet, values, row_number, skip=()):
        item = {}
        for column, raw in values.items():
            if column in skip:
                continue
            kind = _column_kind(sheet, column)
            _set_dotted(item, column, _convert(kind, raw, place(sheet, row_number, column), problems))
        return item

    donor_rows, _ = _rows("donors", tables.get("donors") or [], problems)
    for row_number, values in donor_rows:
        donor = build("donors", values, row_number)
        path = ("donors", len(donors))
        origins[path] = ("donors", row_number)
        local_id = donor.get("local_id")
        if isinstance(local_id, str):
            donor_position.setdefault(local_id, len(donors))
        donors.append(donor)

    line_rows, _ = _rows("lines", tables.get("lines") or [], problems)
    for row_number, values in line_rows:
        line = build("lines", values, row_number)
        # An unmodified line is the common case: a blank modification.type means none.
        line.setdefault("modification", {"type": "none"})
        line["qc"] = []
        path = ("lines", len(lines))
        origins[path] = ("lines", row_number)
        local_id = line.get("local_id")
        if isinstance(local_id, str):
            line_position.setdefault(local_id, len(lines))
        lines.append(line)

    variant_rows, _ = _rows("variants", tables.get("variants") or [], problems)
    for row_number, values in variant_rows:
        donor_ref, line_ref = values.get("donor"), values.get("line")
        variant = build("variants", values, row_number, skip=("donor", "line"))
        if not _blank(line_ref) and str(line_ref).strip() in line_position:
            index = line_position[str(line_ref).strip()]
            target = lines[index].setdefault("modification", {"type": "none"}).setdefault("variants", [])
            origins[("lines", index, "modification", "variants", len(target))] = ("variants", row_number)
        elif not _blank(donor_ref) and str(donor_ref).strip() in donor_position:
            index = donor_position[str(donor_ref).strip()]
            target = donors[index].setdefault("variants", [])
            origins[("donors", index, "variants", len(target))] = ("variants", row_number)
        else:
            column = "line" if not _blank(line_ref) else "donor"
            given = line_ref if not _blank(line_ref) else donor_ref
            problems.append(_problem(
                place("variants", row_number, column),
                f"{column} {given!r} is not a {column} local_id of the {column}s sheet" if not _blank(given)
                else "the row names neither a donor nor a line: fill 'donor' (germline) or 'line' (gene edit)"))
            continue
        target.append(variant)

    qc_rows, _ = _rows("qc", tables.get("qc") or [], problems)
    for row_number, values in qc_rows:
        line_ref = values.get("line")
        key = str(line_ref).strip() if not _blank(line_ref) else None
        if key not in line_position:
            problems.append(_problem(
                place("qc", row_number, "line"),
                f"line {line_ref!r} is not a local_id of the lines sheet" if key else "the row names no line"))
            continue
        item = build("qc", values, row_number, skip=("line",))
        index = line_position[key]
        origins[("lines", index, "qc", len(lines[index]["qc"]))] = ("qc", row_number)
        lines[index]["qc"].append(item)

    if problems:
        raise TemplateError(problems)
    document = {"protocol": _protocol_of(tables), "donors": donors, "lines": lines}
    return document, _make_locator(origins)


def _protocol_of(tables):
    # The template's protocol version: the README sheet may name it; v1 otherwise.
    return EXAMPLE_DOCUMENT["protocol"]


def _make_locator(origins):
    def locate(pointer):
        """'sheet S, row R, column C' for a JSON pointer into a document read from tables."""
        if not pointer or pointer == "/":
            return "the whole upload"
        parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.lstrip("/").split("/")]
        path = tuple(int(p) if p.isdigit() else p for p in parts)
        for length in range(len(path), 0, -1):
            origin = origins.get(path[:length])
            if origin is None:
                continue
            sheet, row = origin
            rest = [str(p) for p in path[length:]]
            return place(sheet, row, _column_for(sheet, rest))
        if path and path[0] in ("donors", "lines"):
            return place(path[0])
        return pointer

    return locate


def _column_for(sheet, rest):
    """The column holding the value at `rest` (the path below a row's object)."""
    if not rest:
        return None
    if rest[0] in ("str_profile", "viral_screening") and len(rest) > 1:
        return f"{rest[0]}.{rest[1]}"
    if sheet in ("lines",) and rest[0] == "qc":
        return None  # the line's QC records as a whole: the line's row
    if sheet == "lines" and rest[:2] == ["modification", "variants"]:
        return None
    dotted = []
    for part in rest:
        if part.isdigit():
            break
        dotted.append(part)
        candidate = ".".join(dotted)
        if candidate in COLUMNS[sheet]:
            return candidate
    return ".".join(dotted) or None


# ---------------------------------------------------------------------------
# Writing: flattening a document, the blank templates
# ---------------------------------------------------------------------------


def _cell(kind, value):
    if value is None:
        return ""
    if kind == "bool":
        return "yes" if value else "no"
    if kind == "list":
        return "; ".join(str(v) for v in value)
    if kind == "markers":
        return "; ".join(
            f"{m.get('marker')}={m['percent_positive']:g}" if m.get("percent_positive") is not None
            else str(m.get("marker")) for m in value)
    if kind == "cnvs":
        return "; ".join(
            f"{c.get('chromosome', '')}:{c.get('type', '')}:{c.get('size_mb'):g}"
            + (":inherited" if c.get("donor_inherited") else "") for c in value)
    return value


def _flatten(item, prefix=""):
    flat = {}
    for key, value in item.items():
        column = f"{prefix}{key}"
        if value is None:
            continue  # an empty cell is an absent value
        if key in ("str_profile", "viral_screening") and isinstance(value, dict) and not prefix:
            for inner, inner_value in value.items():
                flat[f"{key}.{inner}"] = inner_value
        elif isinstance(value, dict) and key not in ("str_profile", "viral_screening"):
            flat.update(_flatten(value, f"{column}."))
        else:
            flat[column] = value
    return flat


def document_to_tables(document):
    """The four tables (header row first) holding `document`; the inverse of tables_to_document."""
    rows = {sheet: [] for sheet in SHEETS}
    for donor in document.get("donors", []):
        donor = dict(donor)
        for variant in donor.pop("variants", None) or []:
            rows["variants"].append({"donor": donor.get("local_id"), **_flatten(variant)})
        rows["donors"].append(_flatten(donor))
    for line in document.get("lines", []):
        line = dict(line)
        qc_items = line.pop("qc", None) or []
        modification = dict(line.get("modification") or {})
        for variant in modification.pop("variants", None) or []:
            rows["variants"].append({"line": line.get("local_id"), **_flatten(variant)})
        line["modification"] = modification
        rows["lines"].append(_flatten(line))
        for item in qc_items:
            rows["qc"].append({"line": line.get("local_id"), **_flatten(item)})
    tables = {}
    for sheet in SHEETS:
        columns = [c for c in COLUMNS[sheet] if not c.startswith(STR_PREFIX)]
        extra = []
        for row in rows[sheet]:
            for column in row:
                if column not in columns and column not in extra:
                    extra.append(column)
        header = columns + extra
        kinds = [_column_kind(sheet, c) or "text" for c in header]
        table = [header]
        for row in rows[sheet]:
            table.append([_cell(kind, row.get(column)) for column, kind in zip(header, kinds, strict=True)])
        tables[sheet] = table
    return tables


def _blank_tables():
    tables = {}
    for sheet in SHEETS:
        header = list(COLUMNS[sheet])
        help_row = [COLUMNS[sheet][c][1] for c in header]
        help_row[0] = f"# {help_row[0]}  (rows starting with # are ignored; delete this row if you like)"
        tables[sheet] = [header, help_row]
    return tables


README = """PRISM line submission template, protocol prism-line-submission/1

Fill one row per donor (donors), per variant (variants), per line (lines) and per QC
record (qc). Rows are tied together by local_id: a line names its donor's local_id, a
QC row names its line's local_id, a variant row names a donor (germline) or a line
(gene edit). Lists in one cell are separated by ';'. Markers: OCT4=96; TRA-1-60=91.5.
CNVs: 20:gain:7.5 (chromosome:type:size in Mb, add :inherited when the donor carries it).
STR: one column per marker, str_profile.<marker>, alleles like 11,12.
Dates: YYYY-MM-DD. Leave a line's name empty to have an hPSCreg name assigned.
The rules every submission is checked against: /protocol/1/
"""


def _xlsx_bytes(tables, readme=README):
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    first = workbook.active
    first.title = "README"
    for text in readme.splitlines():
        first.append([text])
    for sheet in SHEETS:
        worksheet = workbook.create_sheet(sheet)
        for row in tables[sheet]:
            worksheet.append(row)
        for cell in worksheet[1]:
            cell.font = Font(bold=True)
        worksheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _csv_zip_bytes(tables, readme=README):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", readme)
        for sheet in SHEETS:
            text = io.StringIO()
            csv.writer(text, lineterminator="\n").writerows(tables[sheet])
            archive.writestr(f"{sheet}.csv", text.getvalue())
    return buffer.getvalue()


def blank_xlsx_template():
    """The blank XLSX workbook (bytes): README sheet, then donors, variants, lines, qc
    with a header row and a '#' row describing each column."""
    return _xlsx_bytes(_blank_tables())


def blank_csv_template():
    """The blank CSV set (zip bytes): README.txt, donors.csv, variants.csv, lines.csv, qc.csv."""
    return _csv_zip_bytes(_blank_tables())


def example_json_document():
    """A complete, valid example document (dict) of protocol v1."""
    return EXAMPLE_DOCUMENT


def document_to_xlsx(document):
    """A filled workbook (bytes) holding `document`."""
    return _xlsx_bytes(document_to_tables(document))


def document_to_csv_zip(document):
    """A filled CSV set (zip bytes) holding `document`."""
    return _csv_zip_bytes(document_to_tables(document))
