"""QC-1 to QC-5: a line's QC panel. Which tests are required, which are waived and
how the latest records sum up is the QC panel verdict of lines.qc, the same one
the catalog status uses; here it becomes findings, and each test's own
thresholds (markers, bands, CNVs, germ layers) are checked."""

import functools
import re

from lines.qc import CORE_TESTS, VECTOR_METHODS, VIRAL_SCREENING, latest_by_test, panel_verdict
from lines.submissions.rules.findings import as_date, as_dict, as_int, as_list, as_number, as_text

_MARKER_ALIASES = {
    "OCT4": "OCT4",
    "OCT34": "OCT4",
    "POU5F1": "OCT4",
    "NANOG": "NANOG",
    "SOX2": "SOX2",
    "TRA160": "TRA-1-60",
    "TRA181": "TRA-1-81",
    "SSEA4": "SSEA4",
    "SSEA3": "SSEA3",
}
_FLOW_METHODS = {"flow", "flow_cytometry", "facs"}
_NORMAL_KARYOTYPES = {"46,XX", "46,XY"}


def canonical_pluripotency_marker(name):
    try:
        return _canonical_marker(name)
    except TypeError:  # an unhashable name (a list): not memoised
        return _canonical_marker.__wrapped__(name)


@functools.lru_cache(maxsize=4096)
def _canonical_marker(name):
    key = re.sub(r"[^A-Z0-9]", "", str(name).upper())
    return _MARKER_ALIASES.get(key, str(name))


def check_qc(ctx, view):
    at, add, qc_items, line = view.at, view.add, view.qc_items, view.line
    method = as_text(as_dict(line.get("reprogramming")).get("method"))
    if method is None and view.parent_ref:
        method = parent_reprogramming(ctx, view.parent_ref)
    latest = latest_by_test(
        ((q_index, item), item.get("test"), as_date(item.get("date"))) for q_index, item in qc_items
    )
    verdict = panel_verdict(
        {test: item.get("result") for test, (_q_index, item) in latest.items()},
        method=method,
        modified=view.modified,
        core_tests=ctx.setting("core_tests", CORE_TESTS),
        vector_methods=ctx.setting("vector_methods", VECTOR_METHODS),
    )
    missing = list(verdict.missing)
    if missing:
        why = " (required after Sendai or episomal reprogramming)" if missing == ["vector_clearance"] else ""
        add(
            "QC-1",
            at("qc"),
            f"missing core QC test{'s' if len(missing) > 1 else ''}: {', '.join(missing)}{why}",
        )

    viral_tests = list(ctx.setting("viral_tests", []))
    if viral_tests:
        screened = set()
        for source in (view.donor_viral, as_dict(line.get("viral_screening"))):
            screened |= {
                virus for virus, result in source.items() if result in ("negative", "positive", "inconclusive")
            }
        for _i, item in qc_items:
            if item.get("test") == "viral_screening":
                per_virus = as_dict(item.get("viral_screening"))
                if per_virus:
                    screened |= {v for v, r in per_virus.items() if r in ("negative", "positive", "inconclusive")}
                elif item.get("result") in ("pass", "fail", "inconclusive"):
                    screened |= set(viral_tests)
        unscreened = [v for v in viral_tests if v not in screened]
        if unscreened:
            add(
                "QC-1",
                at("qc"),
                f"no viral screening for {', '.join(unscreened)}: give donor.viral_screening, "
                "line.viral_screening or a viral_screening QC record",
            )

    # QC-2 on the latest record of each required (or viral) test.
    for test in [*verdict.required, VIRAL_SCREENING]:
        if test not in latest:
            continue
        q_index, item = latest[test]
        if test in verdict.failed:
            add(
                "QC-2",
                at("qc", q_index, "result"),
                f"{test} failed; a line with a failed core test cannot be deposited (retest and submit the "
                "passing record with its date)",
            )
        elif item.get("result") == "inconclusive":
            add(
                "QC-2",
                at("qc", q_index, "result"),
                f"{test} is inconclusive; curators will ask for a retest",
                severity="warning",
            )

    check_pluripotency(ctx, qc_items, add, at)
    check_genomic_integrity(ctx, qc_items, add, at)
    check_trilineage(ctx, qc_items, add, at)


def parent_reprogramming(ctx, parent_ref):
    if parent_ref in ctx.line_by_id:
        return as_text(as_dict(ctx.line_by_id[parent_ref][1].get("reprogramming")).get("method"))
    catalog = ctx.catalog.parents.get(parent_ref)
    return catalog["reprogramming_method"] if catalog else None


def check_pluripotency(ctx, qc_items, add, at):
    records = [(i, item) for i, item in qc_items if item.get("test") == "pluripotency"]
    if not records:
        return
    minimum = ctx.setting("min_flow_marker_percent", 70)
    count_needed = ctx.setting("min_pluripotency_markers", 2)
    nuclear, surface = (
        set(ctx.setting("nuclear_markers", [])),
        set(ctx.setting("surface_markers", [])),
    )
    seen = set()
    for q_index, item in records:
        flow = str(item.get("method", "")).lower() in _FLOW_METHODS
        for m_index, marker in enumerate(as_list(item.get("markers"))):
            if not isinstance(marker, dict) or not isinstance(marker.get("marker"), str):
                continue
            name = canonical_pluripotency_marker(marker["marker"])
            seen.add(name)
            percent = as_number(marker.get("percent_positive"))
            if flow and percent is None:
                add(
                    "QC-3",
                    at("qc", q_index, "markers", m_index, "percent_positive"),
                    f"flow cytometry marker {marker['marker']} has no percent_positive",
                )
            elif flow and percent < minimum:
                add(
                    "QC-3",
                    at("qc", q_index, "markers", m_index, "percent_positive"),
                    f"{marker['marker']} is {percent:g} % positive; flow markers need at least {minimum:g} %",
                )
    q_index = records[-1][0]
    if len(seen) < count_needed:
        add(
            "QC-3",
            at("qc", q_index, "markers"),
            f"{len(seen)} pluripotency marker{'s' if len(seen) != 1 else ''} given; at least {count_needed} are "
            f"needed, including a nuclear one ({', '.join(sorted(nuclear))}) and a surface one "
            f"({', '.join(sorted(surface))})",
        )
    else:
        if not seen & nuclear:
            add(
                "QC-3",
                at("qc", q_index, "markers"),
                f"no nuclear pluripotency marker: add one of {', '.join(sorted(nuclear))}",
            )
        if not seen & surface:
            add(
                "QC-3",
                at("qc", q_index, "markers"),
                f"no surface pluripotency marker: add one of {', '.join(sorted(surface))}",
            )


def check_genomic_integrity(ctx, qc_items, add, at):
    min_bands = ctx.setting("min_karyotype_bands", 400)
    max_cnv = ctx.setting("max_cnv_mb", 5)
    for q_index, item in qc_items:
        if item.get("test") != "genomic_integrity":
            continue
        inherited = item.get("donor_inherited") is True
        method = str(item.get("method", "")).lower()
        if method in ("g_banding", "karyotype", "g-banding", "karyotyping"):
            bands = as_int(item.get("bands"))
            if bands is None:
                add(
                    "QC-4",
                    at("qc", q_index, "bands"),
                    f"G-banding needs its band resolution ('bands', at least {min_bands})",
                )
            elif bands < min_bands:
                add(
                    "QC-4",
                    at("qc", q_index, "bands"),
                    f"G-banding at {bands} bands is below the {min_bands}-band resolution needed to call a "
                    "karyotype normal",
                )
        karyotype = as_text(item.get("karyotype"))
        if karyotype is not None:
            compact = re.sub(r"\s", "", karyotype)
            if compact not in _NORMAL_KARYOTYPES:
                if inherited:
                    add(
                        "QC-4",
                        at("qc", q_index, "karyotype"),
                        f"abnormal karyotype {karyotype}, marked as inherited from the donor",
                        severity="warning",
                    )
                else:
                    add(
                        "QC-4",
                        at("qc", q_index, "karyotype"),
                        f"abnormal karyotype {karyotype}; if the donor carries it too, set donor_inherited: true",
                    )
        for c_index, cnv in enumerate(as_list(item.get("cnvs"))):
            size = as_number(as_dict(cnv).get("size_mb"))
            if size is None or size <= max_cnv:
                continue
            where = as_dict(cnv).get("chromosome")
            label = f"{size:g} Mb {as_dict(cnv).get('type') or 'CNV'}{f' on chr{where}' if where else ''}"
            if inherited or as_dict(cnv).get("donor_inherited") is True:
                add(
                    "QC-4",
                    at("qc", q_index, "cnvs", c_index),
                    f"{label} (over {max_cnv} Mb), marked as inherited from the donor",
                    severity="warning",
                )
            else:
                add(
                    "QC-4",
                    at("qc", q_index, "cnvs", c_index),
                    f"{label} is over {max_cnv} Mb; if the donor carries it too, set donor_inherited: true",
                )


def check_trilineage(ctx, qc_items, add, at):
    records = [(i, item) for i, item in qc_items if item.get("test") == "trilineage"]
    if not records:
        return
    layers = set(ctx.setting("germ_layers", ["ectoderm", "mesoderm", "endoderm"]))
    covered = set()
    for _i, item in records:
        covered |= {g for g in as_list(item.get("germ_layers")) if isinstance(g, str)}
    missing = sorted(layers - covered)
    if missing:
        add(
            "QC-5",
            at("qc", records[-1][0], "germ_layers"),
            f"trilineage does not cover {', '.join(missing)}; all three germ layers must be shown",
        )
