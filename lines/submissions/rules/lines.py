"""LINE-1, LINE-2 and LINE-3: a line's parental line, its dates and its passages."""

from lines.submissions.rules.findings import as_date, as_dict, as_int


def check_line(ctx, view):
    at, add = view.at, view.add
    modification_type, parent_ref = view.modification_type, view.parent_ref

    # LINE-1
    if view.modified and parent_ref is None:
        add(
            "LINE-1",
            at("parental_line"),
            f"a {modification_type} line needs its parental line (the unmodified line it was edited from)",
        )
    elif modification_type == "none" and parent_ref is not None:
        add(
            "LINE-1",
            at("parental_line"),
            f"an unmodified line has no parental line, but {parent_ref!r} is given; set modification.type "
            "or remove parental_line",
        )

    # LINE-2
    derived_on, obtained_on = view.derived_on, view.obtained_on
    if derived_on and obtained_on and derived_on < obtained_on:
        add(
            "LINE-2",
            at("derived_on"),
            f"derived_on {derived_on} is before consent was obtained ({obtained_on}); a line may only be "
            "derived after consent",
        )

    # LINE-3
    culture = as_dict(view.line.get("culture"))
    banked = as_int(culture.get("passage_at_banking"))
    low, high = ctx.setting("passage_min", 1), ctx.setting("passage_max", 200)
    if banked is not None and not low <= banked <= high:
        add(
            "LINE-3",
            at("culture", "passage_at_banking"),
            f"passage at banking {banked} is outside {low}–{high}",
        )

    for q_index, item in view.qc_items:
        when = as_date(item.get("date"))
        if derived_on and when and when < derived_on:
            add(
                "LINE-2",
                at("qc", q_index, "date"),
                f"{item.get('test')} QC dated {when} is before the line was derived ({derived_on})",
            )
        passage = as_int(item.get("passage"))
        if passage is not None and banked is not None and low <= banked <= high and passage > banked:
            add(
                "LINE-3",
                at("qc", q_index, "passage"),
                f"{item.get('test')} QC at passage {passage} is above the passage at banking ({banked}); "
                "QC describes the banked cells or earlier",
            )
