"""The former cohort builder, kept as the reference the SQL builder is held to
(tests/cohorts/test_sql_builder_chooses_as_before.py): every line of each arm is
loaded and judged in Python (consent through distribution.eligibility, QC, stock,
one line per donor, matching), and every excluded line is listed.

Only its words come from cohorts.builder (constraint_words, CohortImpossible, the
arm's catalog filters and the purpose check), so that a message compares as it is;
what it chooses and why is the old code, unchanged."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet

from cohorts.balance import balance_table
from cohorts.builder import CohortImpossible, arm_queryset, check_purpose, constraint_words
from cohorts.definition import Arm, Definition
from distribution.eligibility import LineFacts, evaluate, facts_for_lines
from donors import duo
from lines.availability import OUT_OF_STOCK, STOCK_TERMS
from lines.holdings.filters import lines_for_purpose
from lines.models import CellLine, QCStatus

CONSENT, QC, STOCK, DONOR, MATCHING = "consent", "qc", "stock", "donor", "matching"
FIELDS = (
    "pk",
    "name",
    "status",
    "availability",
    "donor_id",
    "donor__code",
    "donor__sex",
    "donor__age_at_sampling",
    "donor__ancestry",
    "qc_status",
    "vials_in_stock",
    "stock_summary__availability",
    "parental_line_id",
)


@dataclass
class Line:
    pk: int
    name: str
    status: str
    availability: str
    donor_id: int | None
    donor: str
    sex: str
    age: int | None
    ancestry: str
    qc_status: str
    vials_in_stock: int
    stock_code: str | None
    parental_line_id: int | None
    reasons: list[tuple[str, str]] = field(default_factory=list)

    def member(self, arm: str, role: str, matched_to: str = "") -> dict:
        return {
            "line": self.name,
            "line_id": self.pk,
            "donor": self.donor,
            "arm": arm,
            "role": role,
            "matched_to": matched_to,
            "sex": self.sex,
            "age": self.age,
            "ancestry": self.ancestry,
        }

    def describe(self) -> str:
        age = "age unknown" if self.age is None else f"{self.age} y"
        return f"{self.name} ({self.sex}, {age}, {self.ancestry})"


def _lines(queryset: QuerySet) -> list[Line]:
    return [Line(*row) for row in queryset.order_by("name").values_list(*FIELDS)]


def judge(lines: list[Line], queryset: QuerySet, definition: Definition) -> None:
    """Record on each line the constraints it fails (consent, QC, stock)."""
    purpose = definition.purpose
    approved = lines_for_purpose(queryset, purpose)
    approved_ids = set(approved.values_list("pk", flat=True))
    if len(approved_ids) < len(lines):
        ancestors = duo.disease_ancestors_for(purpose.disease) if duo.DS in purpose.codes else frozenset()
        # Many refused lines share their facts (status, availability, consent): each
        # distinct set is judged once by the one rule, distribution.eligibility.evaluate.
        answers: dict[tuple, tuple[str, str]] = {}
        refused = {}
        for facts in facts_for_lines(queryset.exclude(pk__in=approved.values("pk"))):
            key = (facts.status, facts.availability, facts.consent)
            if key not in answers:
                result = evaluate(LineFacts("", *key), purpose, ancestors)
                text = " ".join(r.text for r in result.reasons) or "The donor's consent does not approve this purpose."
                answers[key] = (
                    CONSENT,
                    f"A curator would have to decide: {text}" if result.decision == duo.ABSTAIN else text,
                )
            refused[facts.name] = answers[key]
        for line in lines:
            if line.pk not in approved_ids:
                line.reasons.append(
                    refused.get(line.name, (CONSENT, "The donor's consent does not approve this purpose."))
                )
    for line in lines:
        if line.qc_status != QCStatus.PASSED:
            line.reasons.append((QC, f"QC not passed: {QCStatus(line.qc_status).label}."))
        if line.vials_in_stock <= 0:
            term = STOCK_TERMS.get(line.stock_code or OUT_OF_STOCK, STOCK_TERMS[OUT_OF_STOCK])
            line.reasons.append((STOCK, f"{term.label}: {term.sentence}"))


class _Cohort:
    """The builder's working state: members so far and the donors they use."""

    def __init__(self, definition: Definition):
        self.definition = definition
        self.members: dict[str, list[tuple[Line, str, str]]] = defaultdict(list)
        self.used_lines: dict[int, str] = {}
        self.used_donors: dict[int, str] = {}
        self.exclusions: list[dict] = []
        self.arms: list[dict] = []

    def exclude(self, line: Line, arm: str, reasons: list[tuple[str, str]]) -> None:
        self.exclusions.append(
            {"line": line.name, "arm": arm, "reasons": [{"constraint": c, "text": t} for c, t in reasons]}
        )

    def taken(self, line: Line) -> str | None:
        """Why `line` cannot join (already in, or its donor already used), or None."""
        if line.pk in self.used_lines:
            return f"Already in the cohort in arm '{self.used_lines[line.pk]}'."
        if self.definition.one_line_per_donor and line.donor_id in self.used_donors:
            return f"Donor {line.donor} is already in the cohort ({self.used_donors[line.donor_id]})."
        return None

    def add(self, line: Line, arm: str, role: str, matched_to: str = "") -> None:
        self.members[arm].append((line, role, matched_to))
        self.used_lines[line.pk] = arm
        if line.donor_id is not None:
            self.used_donors.setdefault(line.donor_id, line.name)

    def counts(self, arm: str) -> dict[str, int]:
        counter: Counter[str] = Counter()
        for exclusion in self.exclusions:
            if exclusion["arm"] == arm:
                counter.update({r["constraint"] for r in exclusion["reasons"]})
        return dict(sorted(counter.items()))


def _shuffled(lines: list[Line], seed: int, arm: str) -> list[Line]:
    # A string seed is hashed with SHA-512 by random.Random: the same on every run.
    order = list(lines)
    random.Random(f"{seed}:{arm}").shuffle(order)
    return order


def _usable(cohort: _Cohort, arm: Arm, lines: list[Line]) -> list[Line]:
    usable = []
    for line in lines:
        if line.reasons:
            cohort.exclude(line, arm.name, line.reasons)
        else:
            usable.append(line)
    return _shuffled(usable, cohort.definition.seed, arm.name)


def _too_few(cohort: _Cohort, arm: Arm, found: int, chosen: int, constraint: str | None = None) -> CohortImpossible:
    counts = cohort.counts(arm.name)
    words = constraint_words(cohort.definition.match_on)
    if constraint is None:
        constraint = max(counts, key=lambda c: (counts[c], c)) if counts else "filters"
    blame = ", ".join(f"{n} for {words[c]}" for c, n in counts.items()) or "none excluded"
    return CohortImpossible(
        arm.name,
        constraint,
        f"Arm '{arm.name}' needs {arm.size} lines but only {chosen} can be proposed: its filters find {found} "
        f"line{'s' if found != 1 else ''} you may see ({blame}). Loosen {words.get(constraint, 'the filters')}.",
        counts,
    )


def _fill_case_arm(cohort: _Cohort, arm: Arm, lines: list[Line]) -> None:
    chosen = 0
    spare = 0
    for line in _usable(cohort, arm, lines):
        taken = cohort.taken(line)
        if taken:
            cohort.exclude(line, arm.name, [(DONOR, taken)])
        elif chosen < arm.size:
            cohort.add(line, arm.name, "case")
            chosen += 1
        else:
            spare += 1
    if chosen < arm.size:
        raise _too_few(cohort, arm, len(lines), chosen)
    cohort.arms.append({"name": arm.name, "matched_to": "", "size": arm.size, "found": len(lines), "spare": spare})


def _match_key(line: Line, match_on: tuple[str, ...]) -> tuple:
    return tuple(getattr(line, c) for c in ("sex", "ancestry") if c in match_on)


def _fill_matched_arm(cohort: _Cohort, arm: Arm, lines: list[Line]) -> None:
    definition = cohort.definition
    match_on, tolerance = definition.match_on, definition.age_tolerance
    cases = [line for line, role, _ in cohort.members[arm.matched_to or ""] if role == "case"]
    pool: dict[tuple, list[tuple[int, Line]]] = defaultdict(list)
    for order, line in enumerate(_usable(cohort, arm, lines)):
        taken = cohort.taken(line)
        if taken:
            cohort.exclude(line, arm.name, [(DONOR, taken)])
        else:
            pool[_match_key(line, match_on)].append((order, line))

    def fits(case: Line, control: Line) -> bool:
        if "age" not in match_on:
            return True
        return case.age is not None and control.age is not None and abs(case.age - control.age) <= tolerance

    chosen = 0
    unmatched: list[Line] = []
    progress = True
    while chosen < arm.size and progress:
        progress = False
        unmatched = []
        for case in cases:
            if chosen >= arm.size:
                break
            bucket = pool.get(_match_key(case, match_on), [])
            candidates = [
                (abs((case.age or 0) - (c.age or 0)) if "age" in match_on else 0, order, i)
                for i, (order, c) in enumerate(bucket)
                if fits(case, c) and not cohort.taken(c)
            ]
            if not candidates:
                unmatched.append(case)
                continue
            _, _, index = min(candidates)
            _, control = bucket.pop(index)
            cohort.add(control, arm.name, "control", case.name)
            chosen += 1
            progress = True
    spare = 0
    cases_by_key: dict[tuple, list[Line]] = defaultdict(list)
    for case in cases:
        cases_by_key[_match_key(case, match_on)].append(case)
    for key, bucket in pool.items():
        same = cases_by_key.get(key, [])
        for _, line in bucket:
            taken = cohort.taken(line)
            if taken:
                cohort.exclude(line, arm.name, [(DONOR, taken)])
            elif any(fits(case, line) for case in same):
                spare += 1
            else:
                cohort.exclude(line, arm.name, [(MATCHING, _no_case_text(line, arm, match_on, tolerance))])
    if chosen < arm.size:
        error = _too_few(cohort, arm, len(lines), chosen, MATCHING)
        if unmatched:
            names = "; ".join(case.describe() for case in unmatched[:5])
            age = f" (age ±{tolerance} years)" if "age" in match_on else ""
            error.message += f" No control left matches {names}{age}."
        raise error
    cohort.arms.append(
        {"name": arm.name, "matched_to": arm.matched_to, "size": arm.size, "found": len(lines), "spare": spare}
    )


def _no_case_text(line: Line, arm: Arm, match_on: tuple[str, ...], tolerance: int) -> str:
    facts = []
    if "sex" in match_on:
        facts.append(line.sex)
    if "ancestry" in match_on:
        facts.append(line.ancestry)
    if "age" in match_on:
        facts.append("age unknown" if line.age is None else f"age {line.age} ±{tolerance}")
    return f"No case in '{arm.matched_to}' matches ({', '.join(facts)})."


def _add_isogenic_partners(cohort: _Cohort, visible: QuerySet) -> None:
    members = {line.pk: (arm, line) for arm, entries in cohort.members.items() for line, _, _ in entries}
    parents = {line.parental_line_id for _, line in members.values() if line.parental_line_id}
    queryset = visible.filter(Q(parental_line_id__in=list(members)) | Q(pk__in=parents)).exclude(pk__in=list(members))
    partners = _lines(queryset)
    if not partners:
        return
    judge(partners, queryset, cohort.definition)
    for partner in partners:
        partner_of = members.get(partner.parental_line_id or 0) or next(
            ((arm, line) for arm, line in members.values() if line.parental_line_id == partner.pk), None
        )
        if partner_of is None or partner.pk in cohort.used_lines:
            continue
        arm, line = partner_of
        if partner.reasons:
            cohort.exclude(partner, arm, partner.reasons)
        else:
            # An isogenic partner shares its line's donor: the one-line-per-donor rule
            # that may have left it out of an arm does not apply to it.
            cohort.exclusions = [e for e in cohort.exclusions if e["line"] != partner.name]
            cohort.add(partner, arm, "isogenic", line.name)


def build(definition: Definition, user: Any) -> dict:
    """The proposal for `definition` as `user` may build it. Raises DefinitionError
    (bad filters or purpose) or CohortImpossible (an arm that cannot be filled)."""
    check_purpose(definition)
    visible = CellLine.objects.visible_to(user)
    cohort = _Cohort(definition)
    found: dict[str, list[Line]] = {}
    for index, arm in enumerate(definition.arms):
        queryset = arm_queryset(arm, index, visible, user)
        lines = _lines(queryset)
        judge(lines, queryset, definition)
        found[arm.name] = lines
    # Case arms first (in the order given), then the arms matched to them.
    for arm in [a for a in definition.arms if a.matched_to is None]:
        _fill_case_arm(cohort, arm, found[arm.name])
    for arm in [a for a in definition.arms if a.matched_to is not None]:
        _fill_matched_arm(cohort, arm, found[arm.name])
    if definition.isogenic_partners:
        _add_isogenic_partners(cohort, visible)
    order = {arm.name: i for i, arm in enumerate(definition.arms)}
    arms = sorted(cohort.arms, key=lambda a: order[a["name"]])
    for arm_info in arms:
        arm_info["members"] = [
            line.member(arm_info["name"], role, m) for line, role, m in cohort.members[arm_info["name"]]
        ]
        arm_info["exclusion_counts"] = cohort.counts(arm_info["name"])
    balance = balance_table(
        {a["name"]: [m for m in a["members"] if m["role"] != "isogenic"] for a in arms}  # partners share a donor
    )
    return {
        "seed": definition.seed,
        "definition": definition.raw,
        "arms": arms,
        "balance": balance,
        "exclusions": cohort.exclusions,
    }
