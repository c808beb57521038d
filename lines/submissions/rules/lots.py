"""LOT-1 (protocol version 2): a line's lots have distinct codes, and a QC record
names only a lot its line declares. LOT-2 (version 3): a vial a lot lists is
listed once in the whole document, and a lot lists no more vials than it made.
The lots and their vials are recorded in stock when a curator takes them in
(stock.deposits), which also refuses a vial id the bank already holds."""

from lines.submissions.rules.findings import as_dict


def check_lots(ctx, view, seen_vials=None):
    """`seen_vials` (vial id → where it was first listed) is shared by every line of
    one document, so a vial listed on two lines is found."""
    lots = view.line.get("lots")
    codes = set()
    for n, lot in enumerate(lots if isinstance(lots, list) else []):
        _check_vials(view, n, as_dict(lot), {} if seen_vials is None else seen_vials)
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


def _check_vials(view, n, lot, seen):
    vials = lot.get("vials")
    if not isinstance(vials, list):
        return
    made = lot.get("vials_made")
    if isinstance(made, int) and not isinstance(made, bool) and len(vials) > made:
        view.add("LOT-2", view.at("lots", n, "vials"), f"lot lists {len(vials)} vials but made {made} (vials_made)")
    for m, vial in enumerate(vials):
        identifier = as_dict(vial).get("id")
        if not isinstance(identifier, str):
            continue
        where = view.at("lots", n, "vials", m, "id")
        if identifier in seen:
            view.add("LOT-2", where, f"vial {identifier!r} is already listed at {seen[identifier]}")
        else:
            seen[identifier] = where
