"""The clinical course of ALS: what is derived from a donor's visits, never typed.

The one home of these derivations (DOMAIN.md "Clinical course"); pure functions on
plain values, so the submission rules, the writer, the catalog filters and the
cohort builder all ask here:

- ALSFRS-R (Cedarbaum et al., J Neurol Sci 1999): 12 items scored 0 (worst) to 4;
  item 5 is answered as 5a (cutting food without gastrostomy) or 5b (with one),
  never both. Total 0–48; domains bulbar 1–3, fine motor 4–6, gross motor 7–9,
  respiratory 10–12.
- King's stage (Balendra et al., ALS-FTD 2014, the ALSFRS-R estimate).
- MiToS stage (Chiò et al., JNNP 2015).
- ΔFS = (48 − total) / months from onset; the slope of the totals between visits.
- Progression class from ΔFS with the cut-offs in settings
  (PRISM_PROGRESSION_SLOW_BELOW, PRISM_PROGRESSION_FAST_ABOVE), and its SQL twin
  `progression_class_q` over Donor.progression_rate, parity-tested.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Q

ITEMS = ("1", "2", "3", "4", "5a", "5b", "6", "7", "8", "9", "10", "11", "12")
ITEM_NAMES = {
    "1": "speech",
    "2": "salivation",
    "3": "swallowing",
    "4": "handwriting",
    "5a": "cutting food (no gastrostomy)",
    "5b": "cutting food (gastrostomy)",
    "6": "dressing and hygiene",
    "7": "turning in bed",
    "8": "walking",
    "9": "climbing stairs",
    "10": "dyspnoea",
    "11": "orthopnoea",
    "12": "respiratory insufficiency",
}
DOMAINS = {
    "bulbar": ("1", "2", "3"),
    "fine_motor": ("4", "5", "6"),
    "gross_motor": ("7", "8", "9"),
    "respiratory": ("10", "11", "12"),
}
ITEM_MIN, ITEM_MAX = 0, 4
TOTAL_MAX = 48

KINGS_STAGES = ("0", "1", "2", "3", "4A", "4B", "5")
MITOS_STAGES = (0, 1, 2, 3, 4, 5)

SLOW, INTERMEDIATE, FAST = "slow", "intermediate", "fast"
PROGRESSION_CLASSES = (SLOW, INTERMEDIATE, FAST)

EVENT_KINDS = ("gastrostomy", "niv", "tracheostomy", "death")
MEDICATIONS = ("riluzole", "edaravone", "tofersen")


class ItemsError(ValueError):
    """The items cannot be scored: {item: what is wrong}."""

    def __init__(self, problems: dict[str, str]):
        super().__init__("; ".join(f"item {k}: {v}" for k, v in problems.items()))
        self.problems = problems


def item_problems(items: Mapping[str, Any]) -> dict[str, str]:
    """What is wrong with a set of ALSFRS-R items (empty when they can be scored):
    an unknown item, a value that is not a whole number 0–4, a missing item, or
    5a and 5b both answered."""
    problems: dict[str, str] = {}
    for key, value in items.items():
        if key not in ITEMS:
            problems[key] = f"unknown item; the items are {', '.join(ITEMS)}"
        elif value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or not ITEM_MIN <= value <= ITEM_MAX
        ):
            problems[key] = f"{value!r} is outside {ITEM_MIN}–{ITEM_MAX} ({ITEM_NAMES[key]})"
    answered = {k for k, v in items.items() if v is not None and k in ITEMS}
    if {"5a", "5b"} <= answered:
        problems["5b"] = "5a and 5b are both answered; answer 5a without gastrostomy, 5b with one"
    for key in ITEMS:
        if key in ("5a", "5b"):
            continue
        if key not in answered and key not in problems:
            problems[key] = f"missing ({ITEM_NAMES[key]})"
    if not answered & {"5a", "5b"} and "5a" not in problems and "5b" not in problems:
        problems["5a"] = "item 5 is missing: answer 5a (no gastrostomy) or 5b (gastrostomy)"
    return problems


def _checked(items: Mapping[str, Any]) -> dict[str, int]:
    problems = item_problems(items)
    if problems:
        raise ItemsError(problems)
    scored = {k: int(v) for k, v in items.items() if v is not None}
    scored["5"] = scored["5a"] if "5a" in scored else scored["5b"]
    return scored


def total(items: Mapping[str, Any]) -> int:
    """The ALSFRS-R total (0–48). Raises ItemsError."""
    scored = _checked(items)
    return sum(scored[k] for domain in DOMAINS.values() for k in domain)


def domain_scores(items: Mapping[str, Any]) -> dict[str, int]:
    """Subscores per domain (bulbar, fine_motor, gross_motor, respiratory; 0–12 each)."""
    scored = _checked(items)
    return {name: sum(scored[k] for k in keys) for name, keys in DOMAINS.items()}


def kings_stage(items: Mapping[str, Any], *, dead: bool = False) -> str:
    """King's stage estimated from ALSFRS-R (Balendra et al. 2014): "0"–"3" regions
    involved, "4A" nutritional failure (item 5b answered: a gastrostomy), "4B"
    respiratory failure (item 10 = 0 or item 12 ≤ 3), "5" death. Stage 4 outranks 1–3;
    respiratory failure (4B) outranks 4A as the later milestone."""
    scored = _checked(items)
    if dead:
        return "5"
    if scored["10"] == 0 or scored["12"] <= 3:
        return "4B"
    if "5b" in scored:
        return "4A"
    bulbar = any(scored[k] < 4 for k in ("1", "2", "3"))
    upper = scored["4"] < 4 or scored["5a"] < 4
    lower = scored["8"] < 4
    return str(int(bulbar) + int(upper) + int(lower))


def mitos_stage(items: Mapping[str, Any], *, dead: bool = False) -> int:
    """MiToS stage (Chiò et al. 2015): the number of functional domains lost
    (movement: item 8 ≤ 1 or item 6 ≤ 1; swallowing: item 3 ≤ 1; communicating:
    item 1 ≤ 1 and item 4 ≤ 1; breathing: item 10 ≤ 1 or item 12 ≤ 2), 5 for death."""
    scored = _checked(items)
    if dead:
        return 5
    lost = (
        scored["8"] <= 1 or scored["6"] <= 1,
        scored["3"] <= 1,
        scored["1"] <= 1 and scored["4"] <= 1,
        scored["10"] <= 1 or scored["12"] <= 2,
    )
    return sum(lost)


def delta_fs(total_score: int, months_from_onset: float | Decimal) -> float | None:
    """ΔFS: ALSFRS-R points lost per month since symptom onset; None at onset (0 months)."""
    months = float(months_from_onset)
    if months <= 0:
        return None
    return round((TOTAL_MAX - total_score) / months, 2)


def slope(points: Iterable[tuple[float | Decimal, int]]) -> float | None:
    """The least-squares slope of (months from onset, total) over visits, in points a
    month (negative when the donor declines); None with fewer than two distinct times."""
    pairs = [(float(m), float(t)) for m, t in points]
    if len({m for m, _ in pairs}) < 2:
        return None
    n = len(pairs)
    mean_m = sum(m for m, _ in pairs) / n
    mean_t = sum(t for _, t in pairs) / n
    num = sum((m - mean_m) * (t - mean_t) for m, t in pairs)
    den = sum((m - mean_m) ** 2 for m, _ in pairs)
    return round(num / den, 3)


def cutoffs() -> tuple[float, float]:
    """(slow below, fast above) in ΔFS points a month, from settings."""
    return float(settings.PRISM_PROGRESSION_SLOW_BELOW), float(settings.PRISM_PROGRESSION_FAST_ABOVE)


def progression_class(rate: float | Decimal | None) -> str | None:
    """slow (ΔFS below the slow cut-off), fast (above the fast cut-off), else
    intermediate; None without a rate."""
    if rate is None:
        return None
    slow_below, fast_above = cutoffs()
    value = float(rate)
    if value < slow_below:
        return SLOW
    if value > fast_above:
        return FAST
    return INTERMEDIATE


def progression_class_q(classes: Iterable[str], donor_path: str = "") -> Q:
    """The SQL twin of progression_class over Donor.progression_rate (reached by
    `donor_path`: "" on Donor, "donor__" on CellLine)."""
    slow_below, fast_above = cutoffs()
    field = f"{donor_path}progression_rate"
    bounds = {
        SLOW: Q(**{f"{field}__lt": slow_below}),
        INTERMEDIATE: Q(**{f"{field}__gte": slow_below, f"{field}__lte": fast_above}),
        FAST: Q(**{f"{field}__gt": fast_above}),
    }
    q = Q(pk__in=[])
    for name in classes:
        q |= bounds[name]
    return q


@dataclass(frozen=True)
class VisitFacts:
    """One visit, derived: what a Visit row stores beside its items."""

    months_from_onset: float
    total: int
    domains: dict[str, int]
    kings_stage: str
    mitos_stage: int
    delta_fs: float | None


def derive_visit(items: Mapping[str, Any], months_from_onset: float | Decimal, *, dead: bool = False) -> VisitFacts:
    score = total(items)
    return VisitFacts(
        months_from_onset=float(months_from_onset),
        total=score,
        domains=domain_scores(items),
        kings_stage=kings_stage(items, dead=dead),
        mitos_stage=mitos_stage(items, dead=dead),
        delta_fs=delta_fs(score, months_from_onset),
    )


@dataclass(frozen=True)
class CourseSummary:
    """A donor's course at sampling: the visit nearest the sampling time speaks for it."""

    kings_stage_at_sampling: str | None
    mitos_stage_at_sampling: int | None
    alsfrs_r_at_sampling: int | None
    delta_fs: float | None
    slope: float | None
    progression_class: str | None


def summarise(visits: Iterable[VisitFacts], sampling_months: float | None = None) -> CourseSummary:
    """The donor-level facts from derived visits: stages and ΔFS of the visit nearest
    `sampling_months` (the latest visit when the sampling time is not known; the
    earlier of two equally near), the slope over every visit, and the class of ΔFS."""
    visits = sorted(visits, key=lambda v: v.months_from_onset)
    if not visits:
        return CourseSummary(None, None, None, None, None, None)
    if sampling_months is None:
        at = visits[-1]
    else:
        at = min(visits, key=lambda v: (abs(v.months_from_onset - float(sampling_months)), v.months_from_onset))
    rate = at.delta_fs
    return CourseSummary(
        kings_stage_at_sampling=at.kings_stage,
        mitos_stage_at_sampling=at.mitos_stage,
        alsfrs_r_at_sampling=at.total,
        delta_fs=rate,
        slope=slope((v.months_from_onset, v.total) for v in visits),
        progression_class=progression_class(rate),
    )


def months_between(start: date, end: date) -> float:
    """Months from `start` to `end` (dates), to one decimal (a month is 365.25/12 days)."""
    return round((end - start).days / (365.25 / 12), 1)
