"""VAR-1 and VAR-2: gene symbols against HGNC, and variant descriptions in HGVS
(the syntax itself: lines.submissions.rules.hgvs)."""

from lines.submissions.rules.findings import as_list, as_text, pointer
from lines.submissions.rules.hgvs import hgvs_problem, protein_problem


def check_donor_variants(ctx, index, donor):
    """VAR-* for a donor's germline variants."""
    donor_id = as_text(donor.get("local_id"))
    for v_index, variant in enumerate(as_list(donor.get("variants"))):
        check_variant(ctx, variant, ("donors", index, "variants", v_index), donor=donor_id)


def check_line_edit(ctx, view):
    """VAR-* for the gene a line's modification edited and the variants the edit made."""
    edited_gene = as_text(view.modification.get("gene"))
    if edited_gene:
        check_gene(
            ctx,
            edited_gene,
            ("lines", view.index, "modification", "gene"),
            donor=view.donor_ref,
            line=view.line_id,
        )
    for v_index, variant in enumerate(as_list(view.modification.get("variants"))):
        check_variant(
            ctx,
            variant,
            ("lines", view.index, "modification", "variants", v_index),
            donor=view.donor_ref,
            line=view.line_id,
        )


def check_gene(ctx, gene, path, *, donor=None, line=None):
    """VAR-1 for one symbol; returns the approved symbol (or the symbol as written)."""
    match = ctx.catalog.genes.get(gene)
    if match is None:
        ctx.add(
            "VAR-1",
            pointer(*path),
            f"{gene!r} is not an approved HGNC symbol, previous symbol or alias; check the "
            "symbol at genenames.org (a locus such as a safe harbour goes in the description)",
            donor=donor,
            line=line,
        )
        return gene
    if match[1] != "approved":
        how = {
            "case": "is written in the wrong case",
            "previous": "is a previous HGNC symbol",
            "alias": "is an alias",
        }[match[1]]
        ctx.add(
            "VAR-1",
            pointer(*path),
            f"{gene!r} {how}; the approved HGNC symbol is {match[0]}",
            donor=donor,
            line=line,
            severity="warning",
        )
    return match[0]


def check_variant(ctx, variant, path, *, donor=None, line=None):
    if not isinstance(variant, dict):
        return
    gene = as_text(variant.get("gene"))
    approved = check_gene(ctx, gene, (*path, "gene"), donor=donor, line=line) if gene else gene
    hgvs, protein = as_text(variant.get("hgvs")), as_text(variant.get("protein"))
    if not hgvs and not protein and variant.get("repeat_size") is None:
        ctx.add(
            "VAR-2",
            pointer(*path),
            "a variant needs an HGVS description ('hgvs', e.g. NM_000454.5:c.14C>T) or a protein "
            "change ('protein', e.g. p.Ala5Val)",
            donor=donor,
            line=line,
        )
    if hgvs:
        problem = hgvs_problem(hgvs)
        if problem:
            ctx.add(
                "VAR-2",
                pointer(*path, "hgvs"),
                f"hgvs {hgvs!r} {problem}" if not problem.startswith("accession") else f"hgvs {hgvs!r}: {problem}",
                donor=donor,
                line=line,
            )
    if protein:
        problem = protein_problem(protein, approved)
        if problem:
            ctx.add(
                "VAR-2",
                pointer(*path, "protein"),
                f"protein {protein!r}: {problem}",
                donor=donor,
                line=line,
            )
