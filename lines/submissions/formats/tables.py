"""Tables (sheet → rows, as read from a CSV set or a workbook) to a document and back:
cells converted by column kind, rows tied together by local_id, and a locator that
turns a JSON pointer into the sheet, row and column it came from."""

import datetime
import re

from lines.submissions.formats.columns import (
    COLUMNS,
    SHEETS,
    STR_PREFIX,
    V2_PROTOCOL,
    V3_PROTOCOL,
    VIRAL_PREFIX,
    TemplateError,
    place,
    problem,
)
from lines.submissions.protocol.example import EXAMPLE_DOCUMENT


def _blank(value):
    return value is None or (isinstance(value, str) and not value.strip())


def convert_cell(kind, value, location, problems):
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
                    problems.append(
                        problem(
                            location,
                            f"marker {item!r}: the percent after '=' is not a number (write e.g. OCT4=96)",
                        )
                    )
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
                cnv = {
                    "chromosome": parts[0].removeprefix("chr"),
                    "type": parts[1],
                    "size_mb": float(parts[2].lower().removesuffix("mb").strip().replace(",", ".")),
                }
                if len(parts) == 4:
                    if parts[3].lower() not in ("inherited", "donor_inherited", "yes", "true"):
                        raise ValueError
                    cnv["donor_inherited"] = True
            except ValueError:
                problems.append(
                    problem(
                        location,
                        f"CNV {item!r} is not chromosome:type:size_mb[:inherited] (e.g. 20:gain:7.5)",
                    )
                )
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
    return table_rows(sheet, table, problems, lambda column: _column_kind(sheet, column))


def table_rows(sheet, table, problems, kind_of):
    """(row number, {column: value}) for each data row, and the header's columns.
    `kind_of(column)` is the column's kind, None for an unknown column (a problem at
    its header cell). Rows whose first cell starts with '#' are comments. Also how
    results/ reads a measurement table."""
    header_index = next((i for i, row in enumerate(table) if any(not _blank(c) for c in row)), None)
    if header_index is None:
        return [], []
    header = ["" if _blank(c) else str(c).strip() for c in table[header_index]]
    columns = []
    for position, column in enumerate(header):
        if not column:
            continue
        if kind_of(column) is None:
            problems.append(
                problem(
                    place(sheet, header_index + 1, column),
                    f"unknown column {column!r} in sheet {sheet} (check the spelling against the blank template)",
                )
            )
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
            _set_dotted(item, column, convert_cell(kind, raw, place(sheet, row_number, column), problems))
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
            origins[("lines", index, "modification", "variants", len(target))] = (
                "variants",
                row_number,
            )
        elif not _blank(donor_ref) and str(donor_ref).strip() in donor_position:
            index = donor_position[str(donor_ref).strip()]
            target = donors[index].setdefault("variants", [])
            origins[("donors", index, "variants", len(target))] = ("variants", row_number)
        else:
            column = "line" if not _blank(line_ref) else "donor"
            given = line_ref if not _blank(line_ref) else donor_ref
            problems.append(
                problem(
                    place("variants", row_number, column),
                    f"{column} {given!r} is not a {column} local_id of the {column}s sheet"
                    if not _blank(given)
                    else "the row names neither a donor nor a line: fill 'donor' (germline) or 'line' (gene edit)",
                )
            )
            continue
        target.append(variant)

    qc_rows, _ = _rows("qc", tables.get("qc") or [], problems)
    for row_number, values in qc_rows:
        line_ref = values.get("line")
        key = str(line_ref).strip() if not _blank(line_ref) else None
        if key not in line_position:
            problems.append(
                problem(
                    place("qc", row_number, "line"),
                    f"line {line_ref!r} is not a local_id of the lines sheet" if key else "the row names no line",
                )
            )
            continue
        item = build("qc", values, row_number, skip=("line",))
        index = line_position[key]
        origins[("lines", index, "qc", len(lines[index]["qc"]))] = ("qc", row_number)
        lines[index]["qc"].append(item)

    uses_lots = any(item.get("lot") not in (None, "") for line in lines for item in line["qc"])
    lot_rows, _ = _rows("lots", tables.get("lots") or [], problems)
    for row_number, values in lot_rows:
        line_ref = values.get("line")
        key = str(line_ref).strip() if not _blank(line_ref) else None
        if key not in line_position:
            problems.append(
                problem(
                    place("lots", row_number, "line"),
                    f"line {line_ref!r} is not a local_id of the lines sheet" if key else "the row names no line",
                )
            )
            continue
        index = line_position[key]
        target = lines[index].setdefault("lots", [])
        origins[("lines", index, "lots", len(target))] = ("lots", row_number)
        target.append(build("lots", values, row_number, skip=("line",)))
        uses_lots = True

    uses_vials = _add_vials(tables, lines, line_position, origins, problems, build)
    if problems:
        raise TemplateError(problems)
    document = {"protocol": _protocol_of(uses_lots, uses_vials), "donors": donors, "lines": lines}
    return document, _make_locator(origins)


def _add_vials(tables, lines, line_position, origins, problems, build):
    """The vials sheet's rows into their lot's "vials" list (protocol 3), each row
    naming its line's local_id and the lot's code; whether there were any."""
    vial_rows, _ = _rows("vials", tables.get("vials") or [], problems)
    for row_number, values in vial_rows:
        line_ref, lot_ref = values.get("line"), values.get("lot")
        key = str(line_ref).strip() if not _blank(line_ref) else None
        if key not in line_position:
            problems.append(
                problem(
                    place("vials", row_number, "line"),
                    f"line {line_ref!r} is not a local_id of the lines sheet" if key else "the row names no line",
                )
            )
            continue
        index = line_position[key]
        code = convert_cell("text", lot_ref, None, problems) if not _blank(lot_ref) else None
        lots = lines[index].get("lots") or []
        lot_index = next((n for n, lot in enumerate(lots) if lot.get("code") == code), None)
        if lot_index is None:
            problems.append(
                problem(
                    place("vials", row_number, "lot"),
                    f"lot {code!r} is not a lot of line {key} in the lots sheet" if code else "the row names no lot",
                )
            )
            continue
        target = lots[lot_index].setdefault("vials", [])
        origins[("lines", index, "lots", lot_index, "vials", len(target))] = ("vials", row_number)
        target.append(build("vials", values, row_number, skip=("line", "lot")))
    return bool(vial_rows)


def _protocol_of(uses_lots, uses_vials=False):
    # Vials are protocol 3's; lots (a lots row, or a QC row naming its lot) protocol 2's;
    # else the template's.
    if uses_vials:
        return V3_PROTOCOL
    return V2_PROTOCOL if uses_lots else EXAMPLE_DOCUMENT["protocol"]


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
    if sheet in ("lines",) and rest[0] in ("qc", "lots"):
        return None  # the line's QC records (or lots) as a whole: the line's row
    if sheet == "lots" and rest[0] == "vials":
        return None  # the lot's vials as a whole: the lot's row
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
            f"{m.get('marker')}={m['percent_positive']:g}"
            if m.get("percent_positive") is not None
            else str(m.get("marker"))
            for m in value
        )
    if kind == "cnvs":
        return "; ".join(
            f"{c.get('chromosome', '')}:{c.get('type', '')}:{c.get('size_mb'):g}"
            + (":inherited" if c.get("donor_inherited") else "")
            for c in value
        )
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
        for lot in line.pop("lots", None) or []:
            lot = dict(lot)
            for vial in lot.pop("vials", None) or []:
                rows["vials"].append({"line": line.get("local_id"), "lot": lot.get("code"), **_flatten(vial)})
            rows["lots"].append({"line": line.get("local_id"), **_flatten(lot)})
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


def blank_tables():
    tables = {}
    for sheet in SHEETS:
        header = list(COLUMNS[sheet])
        help_row = [COLUMNS[sheet][c][1] for c in header]
        help_row[0] = f"# {help_row[0]}  (rows starting with # are ignored; delete this row if you like)"
        tables[sheet] = [header, help_row]
    return tables
