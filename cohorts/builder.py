"""The cohort builder: from a Definition to a proposal (members per arm, balance,
exclusions), deterministic for the same definition, seed and catalog state.

Each arm starts from CellLine.objects.visible_to(user) narrowed by the catalog's
own filters (lines.holdings.filters.CellLineFilter, the clinical ones included,
which already respect donors.disclosure). A line is usable when
- its donor's consent approves the cohort's purpose (the one DUO rule, its SQL
  twin lines.holdings.filters.purpose_q; its reasons from distribution.eligibility),
- its QC panel passed (the catalog's qc_status, kept by lines.qc),
- vials of a released lot are in stock (stock.availability keeps vials_in_stock
  and the stock words of lines.availability).
The database judges each arm's lines (cohorts.exclusions.arm_lines): only the
usable lines that may still join come back, with the counts of every reason and
the first lines of each (`exclusions_per_reason`, by name) to explain it.
Case arms take usable lines in a seeded random order (a shuffle of their ranks by
name), one line per donor across the cohort unless asked otherwise; a matched arm
takes, for each case in turn, the nearest usable control of the same sex and
ancestry within the age tolerance (greedy nearest neighbour, ties broken by the
seeded order), only the controls that can match some case leaving the database.
Isogenic partners (parent or subclones) of the members are added where they are
usable too.

Every line the arm filters found and the builder left out is counted under its
reasons (consent, qc, stock, donor, matching); lines the user may not see never
appear. An arm that cannot be filled raises CohortImpossible naming the arm and
the constraint that failed."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from types import SimpleNamespace
from typing import Any

from django.db.models import Q, QuerySet
from rest_framework.exceptions import ValidationError

from cohorts.balance import balance_table
from cohorts.definition import MATCH_COVARIATES, Arm, Definition, DefinitionError
from cohorts.exclusions import (
    CONSENT,
    DONOR,
    LINE_CONSTRAINTS,
    MATCHING,
    QC,
    STOCK,
    ArmLines,
    Line,
    arm_lines,
    explain,
    matchable_sql,
)
from core.models import DiseaseTerm
from donors import duo
from lines.holdings.filters import CellLineFilter
from lines.models import CellLine

EXCLUSIONS_PER_REASON = 25
__all__ = ["CONSENT", "DONOR", "MATCHING", "QC", "STOCK", "CohortImpossible", "build", "constraint_words"]


def constraint_words(match_on: tuple[str, ...] | list[str] = MATCH_COVARIATES) -> dict[str, str]:
    """What each constraint is called in a message; matching names only the
    covariates the definition matches on."""
    covariates = [c for c in MATCH_COVARIATES if c in match_on]
    if not covariates:
        matching = "matching to the case arm"
    elif len(covariates) == 1:
        matching = f"matching on {covariates[0]}"
    else:
        matching = f"matching on {', '.join(covariates[:-1])} and {covariates[-1]}"
    return {
        CONSENT: "the purpose (consent and availability)",
        QC: "QC passed",
        STOCK: "vials in stock",
        DONOR: "one line per donor",
        MATCHING: matching,
    }


class CohortImpossible(Exception):
    """An arm the catalog cannot fill: which arm, which constraint, and the counts
    that show what to loosen."""

    def __init__(self, arm: str, constraint: str, message: str, counts: dict[str, int] | None = None):
        super().__init__(message)
        self.arm, self.constraint, self.message, self.counts = arm, constraint, message, counts or {}

    def as_dict(self) -> dict:
        return {"detail": self.message, "arm": self.arm, "constraint": self.constraint, "counts": self.counts}


def arm_queryset(arm: Arm, index: int, visible: QuerySet, user: Any) -> QuerySet:
    """The lines `arm`'s catalog filters find among the visible ones; DefinitionError
    naming the arm's filter for an unknown or invalid parameter."""
    where = f"arms[{index}].filters"
    unknown = sorted(set(arm.filters) - set(CellLineFilter.base_filters))
    if unknown:
        raise DefinitionError({f"{where}.{unknown[0]}": "Not a catalog filter (see /api/v1/lines/ parameters)."})
    filterset = CellLineFilter(arm.filters, queryset=visible, request=SimpleNamespace(user=user))
    if not filterset.is_valid():
        raise DefinitionError({f"{where}.{k}": " ".join(v) for k, v in filterset.errors.items()})
    try:
        return filterset.qs
    except ValidationError as error:
        detail = error.detail if isinstance(error.detail, dict) else {"filters": error.detail}
        raise DefinitionError({f"{where}.{k}": " ".join(map(str, v)) for k, v in detail.items()}) from error


def check_purpose(definition: Definition) -> None:
    """DefinitionError for a purpose the DUO rules cannot judge (a DS purpose without
    a known disease, unknown codes...)."""
    known = set(DiseaseTerm.objects.filter(curie=definition.purpose.disease).values_list("curie", flat=True))
    try:
        duo.check_purpose(definition.purpose, known_diseases=known)
    except duo.PurposeError as error:
        raise DefinitionError({f"purpose.{k}": v for k, v in error.problems.items()}) from error


class _Cohort:
    """The builder's working state: members so far, the donors they use, and per arm
    the exclusion counts and the lines shown for them."""

    def __init__(self, definition: Definition, per_reason: int):
        self.definition, self.per_reason = definition, per_reason
        purpose = definition.purpose
        self.ancestors = duo.disease_ancestors_for(purpose.disease) if duo.DS in purpose.codes else frozenset()
        self.words = constraint_words(definition.match_on)
        self.members: dict[str, list[tuple[Line, str, str]]] = defaultdict(list)
        self.used_lines: dict[int, str] = {}
        self.used_donors: dict[int, str] = {}
        self.counts: dict[str, Counter[str]] = defaultdict(Counter)
        # arm → pk → (line, reasons): the lines shown (cut to per_reason a reason at the end).
        self.shown: dict[str, dict[int, tuple[Line, tuple[str, ...]]]] = defaultdict(dict)
        # arm → pk → reason, for lines the builder itself left out (donor, matching).
        self.walked: dict[str, dict[int, str]] = defaultdict(dict)
        self.candidates: dict[str, set[int]] = {}
        self.before: dict[str, tuple[frozenset, frozenset]] = {}
        self.partner_exclusions: list[tuple[Line, str]] = []
        self.arms: list[dict] = []

    def judge(self, arm: Arm, queryset: QuerySet, matchable: tuple[str, list] = ("TRUE", [])) -> ArmLines:
        """The arm's lines as the database judges them, counted and shown."""
        donors = frozenset(self.used_donors) if self.definition.one_line_per_donor else frozenset()
        self.before[arm.name] = (donors, frozenset(self.used_lines))
        lines = arm_lines(
            queryset,
            self.definition.purpose,
            self.ancestors,
            taken_donors=donors,
            taken_lines=self.used_lines,
            matchable=matchable,
            per_reason=self.per_reason,
        )
        self.counts[arm.name].update(lines.counts)
        for reason, examples in lines.examples.items():
            for line in examples:
                self.shown[arm.name][line.pk] = (line, line.failing if reason in LINE_CONSTRAINTS else (reason,))
        self.candidates[arm.name] = {line.pk for line in lines.candidates}
        return lines

    def exclude(self, line: Line, arm: str, reason: str) -> None:
        self.counts[arm][reason] += 1
        self.walked[arm][line.pk] = reason
        self.shown[arm][line.pk] = (line, (reason,))

    def taken(self, line: Line) -> bool:
        """Whether `line` cannot join: already in, or its donor already used."""
        if line.pk in self.used_lines:
            return True
        return self.definition.one_line_per_donor and line.donor_id is not None and line.donor_id in self.used_donors

    def taken_text(self, line: Line, used_lines: dict[int, str]) -> str:
        if line.pk in used_lines:
            return f"Already in the cohort in arm '{used_lines[line.pk]}'."
        return f"Donor {line.donor} is already in the cohort ({self.used_donors.get(line.donor_id or 0, '')})."

    def add(self, line: Line, arm: str, role: str, matched_to: str = "") -> None:
        self.members[arm].append((line, role, matched_to))
        self.used_lines[line.pk] = arm
        if line.donor_id is not None:
            self.used_donors.setdefault(line.donor_id, line.name)

    def arm_counts(self, arm: str) -> dict[str, int]:
        return dict(sorted((c, n) for c, n in self.counts[arm].items() if n))


def _seeded(lines: ArmLines, seed: int, arm: str) -> list[tuple[int, Line]]:
    """The candidates with their place in the seeded order of all the arm's usable
    lines: a shuffle of their ranks by name (random.Random's shuffle depends on the
    length only, so shuffling the ranks orders the lines as shuffling them would)."""
    # A string seed is hashed with SHA-512 by random.Random: the same on every run.
    order = list(range(lines.usable))
    random.Random(f"{seed}:{arm}").shuffle(order)
    place = [0] * lines.usable
    for index, rank in enumerate(order):
        place[rank] = index
    return sorted(((place[line.rank], line) for line in lines.candidates), key=lambda item: item[0])


def _too_few(cohort: _Cohort, arm: Arm, found: int, chosen: int, constraint: str | None = None) -> CohortImpossible:
    counts = cohort.arm_counts(arm.name)
    words = cohort.words
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


def _fill_case_arm(cohort: _Cohort, arm: Arm, queryset: QuerySet) -> None:
    lines = cohort.judge(arm, queryset)
    chosen = 0
    spare = 0
    for _, line in _seeded(lines, cohort.definition.seed, arm.name):
        if cohort.taken(line):
            cohort.exclude(line, arm.name, DONOR)
        elif chosen < arm.size:
            cohort.add(line, arm.name, "case")
            chosen += 1
        else:
            spare += 1
    if chosen < arm.size:
        raise _too_few(cohort, arm, lines.found, chosen)
    cohort.arms.append({"name": arm.name, "matched_to": "", "size": arm.size, "found": lines.found, "spare": spare})


def _match_key(line: Line, match_on: tuple[str, ...]) -> tuple:
    return tuple(getattr(line, c) for c in ("sex", "ancestry") if c in match_on)


def _fill_matched_arm(cohort: _Cohort, arm: Arm, queryset: QuerySet) -> None:
    definition = cohort.definition
    match_on, tolerance = definition.match_on, definition.age_tolerance
    cases = [line for line, role, _ in cohort.members[arm.matched_to or ""] if role == "case"]
    # Only the controls that fit some case leave the database; the others are counted there.
    lines = cohort.judge(arm, queryset, matchable_sql(cases, match_on, tolerance))
    pool: dict[tuple, list[tuple[int, Line]]] = defaultdict(list)
    for order, line in _seeded(lines, definition.seed, arm.name):
        if cohort.taken(line):
            cohort.exclude(line, arm.name, DONOR)
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
            if cohort.taken(line):
                cohort.exclude(line, arm.name, DONOR)
            elif any(fits(case, line) for case in same):
                spare += 1
            else:
                cohort.exclude(line, arm.name, MATCHING)
    if chosen < arm.size:
        error = _too_few(cohort, arm, lines.found, chosen, MATCHING)
        if unmatched:
            names = "; ".join(case.describe() for case in unmatched[:5])
            age = f" (age ±{tolerance} years)" if "age" in match_on else ""
            error.message += f" No control left matches {names}{age}."
        raise error
    cohort.arms.append(
        {"name": arm.name, "matched_to": arm.matched_to, "size": arm.size, "found": lines.found, "spare": spare}
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


def _add_isogenic_partners(cohort: _Cohort, visible: QuerySet, querysets: dict[str, QuerySet]) -> None:
    members = {line.pk: (arm, line) for arm, entries in cohort.members.items() for line, _, _ in entries}
    parents = {line.parental_line_id for _, line in members.values() if line.parental_line_id}
    queryset = visible.filter(Q(parental_line_id__in=list(members)) | Q(pk__in=parents)).exclude(pk__in=list(members))
    judged = arm_lines(queryset, cohort.definition.purpose, cohort.ancestors, per_reason=2**31 - 1)
    partners = {line.pk: line for line in judged.candidates}
    for reason in LINE_CONSTRAINTS:
        partners.update((line.pk, line) for line in judged.examples[reason])
    added = []
    for partner in sorted(partners.values(), key=lambda line: line.name):
        partner_of = members.get(partner.parental_line_id or 0) or next(
            ((arm, line) for arm, line in members.values() if line.parental_line_id == partner.pk), None
        )
        if partner_of is None or partner.pk in cohort.used_lines:
            continue
        arm, line = partner_of
        if partner.failing:
            cohort.partner_exclusions.append((partner, arm))
            cohort.counts[arm].update(partner.failing)
        else:
            cohort.add(partner, arm, "isogenic", line.name)
            added.append(partner)
    _forget_exclusions(cohort, added, querysets)


def _forget_exclusions(cohort: _Cohort, partners: list[Line], querysets: dict[str, QuerySet]) -> None:
    """An isogenic partner shares its line's donor: the one-line-per-donor rule (or
    matching) that left it out of an arm does not apply to it, so those exclusions go."""
    if not partners:
        return
    for arm in cohort.arms:
        name = arm["name"]
        donors, lines = cohort.before[name]
        left_out: dict[int, str] = {}
        unsure = []
        for partner in partners:
            if partner.pk in cohort.walked[name]:
                left_out[partner.pk] = cohort.walked[name][partner.pk]
            elif partner.pk in cohort.candidates[name]:
                continue
            elif partner.pk in lines or partner.donor_id in donors:
                unsure.append((partner, DONOR))  # taken before the arm, if the arm found it
            elif arm["matched_to"]:
                unsure.append((partner, MATCHING))  # no case could match it, if the arm found it
        if unsure:
            found = set(querysets[name].filter(pk__in=[p.pk for p, _ in unsure]).values_list("pk", flat=True))
            left_out.update((partner.pk, reason) for partner, reason in unsure if partner.pk in found)
        for pk, reason in left_out.items():
            cohort.counts[name][reason] -= 1
            cohort.shown[name].pop(pk, None)


def _exclusions(cohort: _Cohort, used_lines: dict[int, str]) -> list[dict]:
    """The lines shown: per arm the first `per_reason` of each reason by name, then the
    isogenic partners left out, each with its worded reasons."""
    definition = cohort.definition
    shown: list[tuple[Line, str, tuple[str, ...]]] = []
    for arm in cohort.arms:
        entries = sorted(cohort.shown[arm["name"]].values(), key=lambda entry: entry[0].name)
        keep: set[int] = set()
        for reason in (*LINE_CONSTRAINTS, DONOR, MATCHING):
            keep.update([line.pk for line, reasons in entries if reason in reasons][: cohort.per_reason])
        shown += [(line, arm["name"], reasons) for line, reasons in entries if line.pk in keep]
    shown += [(line, arm, line.failing) for line, arm in cohort.partner_exclusions]
    worded = explain([line for line, _, _ in shown], definition.purpose, cohort.ancestors)
    exclusions = []
    for line, arm_name, reasons in shown:
        if reasons == (DONOR,):
            texts = [(DONOR, cohort.taken_text(line, used_lines))]
        elif reasons == (MATCHING,):
            matched = definition.arm(arm_name)
            texts = [(MATCHING, _no_case_text(line, matched, definition.match_on, definition.age_tolerance))]
        else:
            texts = worded[line.pk]
        exclusions.append(
            {"line": line.name, "arm": arm_name, "reasons": [{"constraint": c, "text": t} for c, t in texts]}
        )
    return exclusions


def build(definition: Definition, user: Any, *, exclusions_per_reason: int = EXCLUSIONS_PER_REASON) -> dict:
    """The proposal for `definition` as `user` may build it, showing at most
    `exclusions_per_reason` lines of each reason per arm (all are counted). Raises
    DefinitionError (bad filters or purpose) or CohortImpossible (an arm that cannot
    be filled)."""
    check_purpose(definition)
    visible = CellLine.objects.visible_to(user)
    cohort = _Cohort(definition, exclusions_per_reason)
    querysets = {arm.name: arm_queryset(arm, index, visible, user) for index, arm in enumerate(definition.arms)}
    # Case arms first (in the order given), then the arms matched to them.
    for arm in [a for a in definition.arms if a.matched_to is None]:
        _fill_case_arm(cohort, arm, querysets[arm.name])
    for arm in [a for a in definition.arms if a.matched_to is not None]:
        _fill_matched_arm(cohort, arm, querysets[arm.name])
    used_lines = dict(cohort.used_lines)  # as the arms left it: the words of a donor exclusion
    if definition.isogenic_partners:
        _add_isogenic_partners(cohort, visible, querysets)
    exclusions = _exclusions(cohort, used_lines)
    order = {arm.name: i for i, arm in enumerate(definition.arms)}
    arms = sorted(cohort.arms, key=lambda a: order[a["name"]])
    for arm_info in arms:
        arm_info["members"] = [
            line.member(arm_info["name"], role, m) for line, role, m in cohort.members[arm_info["name"]]
        ]
        arm_info["exclusion_counts"] = cohort.arm_counts(arm_info["name"])
    balance = balance_table(
        {a["name"]: [m for m in a["members"] if m["role"] != "isogenic"] for a in arms}  # partners share a donor
    )
    return {
        "seed": definition.seed,
        "definition": definition.raw,
        "arms": arms,
        "balance": balance,
        "exclusions": exclusions,
    }
