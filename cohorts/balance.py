"""The balance table: how alike the arms are on each covariate, as the standardised
mean difference (SMD) of every arm against the first (reference) arm.

SMD (Austin, Stat Med 2009): for a continuous covariate (m1 - m2) / sqrt((s1² + s2²) / 2);
for a proportion (p1 - p2) / sqrt((p1(1 - p1) + p2(1 - p2)) / 2). |SMD| < 0.1 is the
usual reading of "balanced". Ancestry gives one row per category present."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

BALANCED_BELOW = 0.1


def smd_continuous(a: Sequence[float], b: Sequence[float]) -> float | None:
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(x) < 1 or len(y) < 1:
        return None
    pooled = np.sqrt((x.var(ddof=1 if len(x) > 1 else 0) + y.var(ddof=1 if len(y) > 1 else 0)) / 2)
    diff = x.mean() - y.mean()
    if pooled == 0:
        return 0.0 if diff == 0 else None
    return round(float(diff / pooled), 3)


def smd_proportion(p1: float, p2: float) -> float | None:
    pooled = np.sqrt((p1 * (1 - p1) + p2 * (1 - p2)) / 2)
    if pooled == 0:
        return 0.0 if p1 == p2 else None
    return round(float((p1 - p2) / pooled), 3)


def _proportion(values: Sequence, wanted: object) -> float:
    return sum(1 for v in values if v == wanted) / len(values) if values else 0.0


def balance_table(arms: Mapping[str, Sequence[Mapping]]) -> list[dict]:
    """Rows {covariate, summary: {arm: text}, smd: {arm: SMD vs the first arm}} over
    the members' sex, age at sampling and ancestry (unknown values left out of ages)."""
    names = list(arms)
    if not names:
        return []
    reference = names[0]
    rows: list[dict] = []
    ages = {n: [m["age"] for m in arms[n] if m.get("age") is not None] for n in names}
    rows.append(
        {
            "covariate": "age at sampling (years)",
            "summary": {
                n: (f"{np.mean(v):.1f} ± {np.std(v, ddof=1) if len(v) > 1 else 0:.1f}" if v else "–")
                for n, v in ages.items()
            },
            "smd": {n: smd_continuous(ages[n], ages[reference]) for n in names[1:]},
        }
    )
    for covariate, key, categories in (
        ("sex", "sex", ["female"]),
        ("ancestry", "ancestry", sorted({m["ancestry"] for n in names for m in arms[n]})),
    ):
        for category in categories:
            share = {n: _proportion([m[key] for m in arms[n]], category) for n in names}
            rows.append(
                {
                    "covariate": f"{covariate}: {category}",
                    "summary": {n: f"{share[n] * 100:.0f}%" for n in names},
                    "smd": {n: smd_proportion(share[n], share[reference]) for n in names[1:]},
                }
            )
    for row in rows:
        row["balanced"] = all(v is not None and abs(v) < BALANCED_BELOW for v in row["smd"].values())
    return rows
