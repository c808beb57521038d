"""Subgroup comparison: lines grouped (by gene, variant, subtype, sex, onset site or
isogenic pair) on one readout; per group n, median and spread; a test from SciPy.

- two groups: Mann-Whitney U (two-sided), effect size the rank-biserial correlation
  r = 2U / (n1 n2) − 1 (−1 … 1);
- three or more: Kruskal-Wallis H, effect size ε² = H / (n − 1) (0 … 1);
- isogenic pairs: Wilcoxon signed-rank on the paired values (parent vs subclone),
  effect size the matched-pairs rank-biserial correlation.
A group with fewer lines than settings.RESULTS_MIN_GROUP_SIZE is shown, marked
"n too small", and left out of the test; with fewer than two groups left there is
no test, and the answer says so.
"""

import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from django.conf import settings
from scipy import stats


def describe(values: Sequence[float]) -> dict[str, Any]:
    ordered = sorted(values)
    n = len(ordered)
    if n == 0:
        return {"n": 0, "median": None, "q1": None, "q3": None, "min": None, "max": None}
    q1, q3 = (float(v) for v in np.percentile(ordered, [25, 75])) if n > 1 else (ordered[0], ordered[0])
    return {
        "n": n,
        "median": float(statistics.median(ordered)),
        "q1": q1,
        "q3": q3,
        "min": float(ordered[0]),
        "max": float(ordered[-1]),
    }


def compare_groups(values: Mapping[int, float], groups: Mapping[int, str], names: Mapping[int, str]) -> dict[str, Any]:
    """Groups with their summaries and points, and the test across those large enough."""
    minimum = settings.RESULTS_MIN_GROUP_SIZE
    members: dict[str, list[int]] = defaultdict(list)
    for line_id in values:
        if line_id in groups:
            members[groups[line_id]].append(line_id)
    summaries = []
    for group in sorted(members, key=lambda g: (-len(members[g]), g)):
        ids = sorted(members[group], key=lambda i: names.get(i, ""))
        summary = describe([values[i] for i in ids])
        summary.update(
            group=group,
            too_small=summary["n"] < minimum,
            points=[{"line": names.get(i, str(i)), "value": values[i]} for i in ids],
        )
        summaries.append(summary)
    tested = [s for s in summaries if not s["too_small"]]
    return {"groups": summaries, "test": _test(tested, minimum, len(summaries))}


def _test(tested, minimum, total):
    if len(tested) < 2:
        why = (
            f"No test: fewer than two groups have at least {minimum} lines"
            if total >= 2
            else "No test: the lines fall in a single group"
        )
        return {"name": None, "statistic": None, "p_value": None, "effect_size": None, "note": why}
    samples = [[p["value"] for p in s["points"]] for s in tested]
    left_out = total - len(tested)
    note = f"{left_out} group(s) with n < {minimum} left out of the test." if left_out else ""
    if len(samples) == 2:
        result = stats.mannwhitneyu(samples[0], samples[1], alternative="two-sided")
        effect = 2 * float(result.statistic) / (len(samples[0]) * len(samples[1])) - 1
        return {
            "name": "Mann-Whitney U",
            "groups": [s["group"] for s in tested],
            "statistic": float(result.statistic),
            "p_value": float(result.pvalue),
            "effect_size": effect,
            "effect_size_name": "rank-biserial correlation",
            "note": note,
        }
    if len({v for sample in samples for v in sample}) == 1:
        return {
            "name": None,
            "statistic": None,
            "p_value": None,
            "effect_size": None,
            "note": "No test: every value is the same.",
        }
    result = stats.kruskal(*samples)
    n = sum(len(s) for s in samples)
    return {
        "name": "Kruskal-Wallis H",
        "groups": [s["group"] for s in tested],
        "statistic": float(result.statistic),
        "p_value": float(result.pvalue),
        "effect_size": float(result.statistic) / (n - 1),
        "effect_size_name": "epsilon squared",
        "note": note,
    }


def compare_pairs(pairs: Sequence[tuple[str, str, float, float]]) -> dict[str, Any]:
    """Isogenic pairs (parent name, subclone name, parent value, subclone value): the
    differences and a Wilcoxon signed-rank test when there are enough pairs."""
    minimum = settings.RESULTS_MIN_GROUP_SIZE
    rows: list[dict[str, Any]] = [
        {"parent": p, "subclone": c, "parent_value": a, "subclone_value": b, "difference": b - a}
        for p, c, a, b in pairs
    ]
    differences = [b - a for _p, _c, a, b in pairs]
    summary = describe(differences)
    test: dict[str, Any] = {"name": None, "statistic": None, "p_value": None, "effect_size": None, "note": ""}
    if len(rows) < minimum:
        test["note"] = f"No test: n too small ({len(rows)} pair(s); at least {minimum} needed)."
    elif all(d == 0 for d in differences):
        test["note"] = "No test: every pair has the same value."
    else:
        result = stats.wilcoxon(differences)
        nonzero = [d for d in differences if d != 0]
        ranks = stats.rankdata([abs(d) for d in nonzero])
        positive = float(sum(r for r, d in zip(ranks, nonzero, strict=True) if d > 0))
        total = float(ranks.sum())
        test = {
            "name": "Wilcoxon signed-rank (paired)",
            "statistic": float(result.statistic),
            "p_value": float(result.pvalue),
            "effect_size": (2 * positive - total) / total if total else None,
            "effect_size_name": "matched-pairs rank-biserial correlation",
            "note": "",
        }
    return {"pairs": rows, "differences": summary, "too_small": len(rows) < minimum, "test": test}
