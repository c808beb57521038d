"""LOT-1 (protocol version 2): a line's lots have distinct codes, and a QC record
names only a lot its line declares. The lots themselves are recorded in stock
when a curator takes them in (stock.deposits)."""

from lines.submissions.rules.findings import as_dict


def check_lots(ctx, view):
    lots = view.line.get("lots")
    codes = set()
    for n, lot in enumerate(lots if isinstance(lots, list) else []):
        code = as_dict(lot).get("code")
        if not isinstance(code, str):
            continue
        if code in codes:
            view.add("LOT-1", view.at("lots", n, "code"), f"lot {code!r} is declared twice on this line")
        codes.add(code)
    records = view.line.get("qc")
    for n, record in enumerate(records if isinstance(records, list) else []):
        named = as_dict(record).get("lot")
        if isinstance(named, str) and named not in codes:
            known = ", ".join(sorted(codes)) or "none"
            view.add(
                "LOT-1",
                view.at("qc", n, "lot"),
                f"QC record names lot {named!r}, which this line does not declare ({known})",
            )
