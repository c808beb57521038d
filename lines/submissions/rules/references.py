"""REF-1 and REF-2: what the document's lines refer to. A catalog reference counts only
if the depositor may see it (lines.submissions.rules.catalog)."""

from lines.submissions.rules.findings import as_text, pointer


def check_references(ctx):
    """REF-2: unique local_ids; REF-1: every donor and parental line a line names resolves."""
    for collection, items in (("donors", ctx.donor_items), ("lines", ctx.line_items)):
        seen = {}
        for index, item in items:
            local_id = as_text(item.get("local_id"))
            if local_id is None:
                continue
            if local_id in seen:
                line = local_id if collection == "lines" else None
                donor = local_id if collection == "donors" else None
                ctx.add(
                    "REF-2",
                    pointer(collection, index, "local_id"),
                    f"local_id {local_id!r} is used by {collection} #{seen[local_id] + 1} and #{index + 1}; "
                    "give each a unique local_id",
                    line=line,
                    donor=donor,
                )
            else:
                seen[local_id] = index
    for index, line in ctx.line_items:
        line_id = as_text(line.get("local_id"))
        donor_ref = as_text(line.get("donor"))
        if donor_ref is not None and donor_ref not in ctx.donor_by_id and donor_ref not in ctx.catalog.donors:
            ctx.add(
                "REF-1",
                pointer("lines", index, "donor"),
                f"donor {donor_ref!r} is neither a donor local_id in this document nor a donor code in "
                "the catalog; add the donor to 'donors' or use the catalog's donor code",
                line=line_id,
                donor=donor_ref,
            )
        parent_ref = as_text(line.get("parental_line"))
        if parent_ref is not None and parent_ref not in ctx.line_by_id and parent_ref not in ctx.catalog.parents:
            ctx.add(
                "REF-1",
                pointer("lines", index, "parental_line"),
                f"parental line {parent_ref!r} is neither a line local_id in this document nor a line name "
                "in the catalog; deposit the parent first or include it in this document",
                line=line_id,
                donor=donor_ref,
            )
        if parent_ref is not None and parent_ref == line_id:
            ctx.add(
                "REF-1",
                pointer("lines", index, "parental_line"),
                "a line cannot be its own parental line",
                line=line_id,
                donor=donor_ref,
            )
