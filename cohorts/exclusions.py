"""Why the cohort builder leaves a line out, decided in the database.

One query per arm judges every line its catalog filters find (lines the user may
see): the constraints it fails among
- consent: the purpose's SQL twin (lines.holdings.filters.purpose_q: released,
  available for distribution, donors.duo.approved_q on the donor's consent),
- qc: the QC panel passed (qc_status, kept by lines.qc),
- stock: vials of a released lot in stock (vials_in_stock, kept by stock.availability),
and, for the lines that pass all three, whether an earlier arm already took the line
or its donor (one line per donor) and whether it can match a case of the arm it is
matched to. Window aggregates count the lines of each reason; only the first few
lines of each reason (by name) come back for the explanation, and the usable ones
that may still join, each with its rank by name among the usable lines (the builder's
seeded order is a shuffle of those ranks: cohorts.builder).

`explain()` words the reasons of the lines shown, with the one DUO rule
(distribution.eligibility.evaluate) for consent. Parity with the former Python
builder (every line classified in Python): tests/cohorts/test_sql_builder_chooses_as_before.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet

from distribution.eligibility import LineFacts, evaluate, facts_for_lines
from donors import duo
from lines.availability import OUT_OF_STOCK, STOCK_TERMS
from lines.holdings.filters import purpose_q
from lines.models import CellLine, QCStatus

CONSENT, QC, STOCK, DONOR, MATCHING = "consent", "qc", "stock", "donor", "matching"
LINE_CONSTRAINTS = (CONSENT, QC, STOCK)
COLUMNS = (
    "pk",
    "name",
    "donor_id",
    "donor",
    "sex",
    "age",
    "ancestry",
    "parental_line_id",
    "consent",
    "qc",
    "stock",
)
VALUES = (
    "pk",
    "name",
    "donor_id",
    "donor__code",
    "donor__sex",
    "donor__age_at_sampling",
    "donor__ancestry",
    "parental_line_id",
    "_consent",
    "_qc",
    "_stock",
)


@dataclass
class Line:
    """A line as the builder sees it; `rank` its place by name among the arm's usable
    lines (0-based), `failing` the constraints among consent, QC and stock it fails."""

    pk: int
    name: str
    donor_id: int | None
    donor: str
    sex: str
    age: int | None
    ancestry: str
    parental_line_id: int | None
    rank: int = -1
    failing: tuple[str, ...] = ()

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


@dataclass
class ArmLines:
    """What one query says of an arm: `found` lines, `usable` (consent, QC and stock
    passed), `counts` per reason (a line failing QC and stock counts for both; donor:
    taken by an earlier arm; matching: no case can match it), `candidates` (usable,
    not taken, matchable: all of them, by name) and `examples` (reason → its first
    lines by name)."""

    found: int = 0
    usable: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    candidates: list[Line] = field(default_factory=list)
    examples: dict[str, list[Line]] = field(default_factory=dict)


def _in(column: str, values) -> tuple[str, list]:
    values = sorted(set(values))
    if not values:
        return "FALSE", []
    return f"{column} IN ({', '.join(['%s'] * len(values))})", values


def matchable_sql(cases: list[Line], match_on: tuple[str, ...], tolerance: int) -> tuple[str, list]:
    """The SQL condition (on the arm's columns) of a control that fits at least one
    case: the same sex and ancestry where matched on, an age within the tolerance of
    the case's (both known) where matched on age. Ages are merged into intervals per
    (sex, ancestry), so the condition stays short for a large arm."""
    keys = tuple(c for c in ("sex", "ancestry") if c in match_on)
    intervals: dict[tuple, list[list[int]]] = {}
    for case in cases:
        key = tuple(getattr(case, c) for c in keys)
        spans = intervals.setdefault(key, [])
        if "age" in match_on:
            if case.age is not None:
                spans.append([case.age - tolerance, case.age + tolerance])
        elif not spans:
            spans.append([])
    terms, params = [], []
    for key, spans in intervals.items():
        merged: list[list[int]] = []
        for span in sorted(spans):
            if merged and span and span[0] <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], span[1])
            else:
                merged.append(list(span))
        for span in merged:
            parts = [f"{column} = %s" for column in keys]
            values = list(key)
            if span:
                parts.append("age BETWEEN %s AND %s")
                values += span
            terms.append("(" + (" AND ".join(parts) or "TRUE") + ")")
            params += values
    return ("(" + " OR ".join(terms) + ")" if terms else "FALSE"), params


def arm_lines(
    queryset: QuerySet,
    purpose: duo.Purpose,
    disease_ancestors: frozenset | None,
    *,
    taken_donors=(),
    taken_lines=(),
    matchable: tuple[str, list] = ("TRUE", []),
    per_reason: int = 25,
) -> ArmLines:
    """Judge the lines of `queryset` in one query (see the module's docstring).
    `taken_donors` and `taken_lines` are already in the cohort; `matchable` is the SQL
    condition (matchable_sql) a usable line must meet to be a candidate."""
    judged = (
        queryset.order_by()
        .annotate(
            _consent=ExpressionWrapper(purpose_q(purpose, disease_ancestors), output_field=BooleanField()),
            _qc=ExpressionWrapper(Q(qc_status=QCStatus.PASSED), output_field=BooleanField()),
            _stock=ExpressionWrapper(Q(vials_in_stock__gt=0), output_field=BooleanField()),
        )
        .values_list(*VALUES)
    )
    try:
        inner, params = judged.query.get_compiler(queryset.db).as_sql()
    except EmptyResultSet:  # a filter that can match nothing (an empty list of ids)
        return ArmLines(examples={r: [] for r in (*LINE_CONSTRAINTS, DONOR, MATCHING)})
    donors_in, donor_params = _in("donor_id", taken_donors)
    lines_in, line_params = _in("pk", taken_lines)
    match_condition, match_params = matchable
    reasons = {
        CONSENT: "NOT consent",
        QC: "NOT qc",
        STOCK: "NOT stock",
        DONOR: "taken",
        MATCHING: "usable AND NOT taken AND NOT matchable",
    }
    # One sort by name serves every running count (the ranks); the totals need none.
    totals = ", ".join(f"COUNT(*) FILTER (WHERE {c}) OVER () AS n_{r}" for r, c in reasons.items())
    ranks = ", ".join(f"COUNT(*) FILTER (WHERE {c}) OVER w AS rank_{r}" for r, c in reasons.items())
    shown = " OR ".join(f"({c} AND rank_{r} <= %s)" for r, c in reasons.items())
    sql = (
        f"WITH arm ({', '.join(COLUMNS)}) AS MATERIALIZED ({inner}), "  # noqa: S608 - the queryset's own SQL, with its params
        f"flagged AS (SELECT {', '.join(COLUMNS[:-3])}, COALESCE(consent, FALSE) AS consent, "
        "COALESCE(qc, FALSE) AS qc, COALESCE(stock, FALSE) AS stock FROM arm), "
        # A NULL (no donor, an unknown age) never takes or matches: COALESCE keeps each flag true or false.
        "judged AS (SELECT flagged.*, (consent AND qc AND stock) AS usable, "
        f"(consent AND qc AND stock AND COALESCE({donors_in} OR {lines_in}, FALSE)) AS taken, "
        f"(consent AND qc AND stock AND COALESCE({match_condition}, FALSE)) AS matchable FROM flagged), "
        "ranked AS (SELECT judged.*, COUNT(*) OVER () AS found, "
        f"COUNT(*) FILTER (WHERE usable) OVER () AS n_usable, {totals}, "
        f"COUNT(*) FILTER (WHERE usable) OVER w AS rank_usable, COUNT(*) OVER w AS rank_all, {ranks} "
        "FROM judged WINDOW w AS (ORDER BY name ROWS UNBOUNDED PRECEDING)) "
        f"SELECT {', '.join(COLUMNS)}, taken, usable AND NOT taken AND matchable, rank_usable, found, n_usable, "
        f"{', '.join(f'n_{r}' for r in reasons)}, {', '.join(f'rank_{r}' for r in reasons)} FROM ranked "
        f"WHERE (usable AND NOT taken AND matchable) OR rank_all = 1 OR {shown} ORDER BY name"
    )
    params = [*params, *donor_params, *line_params, *match_params, *[per_reason] * len(reasons)]
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    result = ArmLines(examples={r: [] for r in reasons})
    width = len(COLUMNS)
    for row in rows:
        consent, qc, stock = (bool(v) for v in row[width - 3 : width])
        taken, candidate = bool(row[width]), bool(row[width + 1])
        result.found, result.usable = row[width + 3], row[width + 4]
        totals_row = row[width + 5 : width + 5 + len(reasons)]
        ranks_row = row[width + 5 + len(reasons) :]
        result.counts = {r: n for r, n in zip(reasons, totals_row, strict=True) if n}
        failing = tuple(c for c, ok in zip(LINE_CONSTRAINTS, (consent, qc, stock), strict=True) if not ok)
        line = Line(*row[: width - 3], rank=row[width + 2] - 1, failing=failing)
        if candidate:
            result.candidates.append(line)
        flags = {CONSENT: not consent, QC: not qc, STOCK: not stock, DONOR: taken}
        flags[MATCHING] = not failing and not taken and not candidate
        for (reason, flagged), rank in zip(flags.items(), ranks_row, strict=True):
            if flagged and rank <= per_reason:
                result.examples[reason].append(line)
    return result


def explain(lines: list[Line], purpose: duo.Purpose, disease_ancestors: frozenset | None) -> dict[int, list]:
    """The worded reasons (constraint, text) of lines failing consent, QC or stock, by pk."""
    failing = [line for line in lines if line.failing]
    if not failing:
        return {}
    facts_rows = CellLine.objects.filter(pk__in={line.pk for line in failing}).values_list(
        "pk", "qc_status", "stock_summary__availability"
    )
    facts = {pk: (qc_status, stock_code) for pk, qc_status, stock_code in facts_rows}
    refused = [line.pk for line in failing if CONSENT in line.failing]
    consent_texts: dict[str, tuple[str, str]] = {}
    answers: dict[tuple, tuple[str, str]] = {}
    if refused:
        # Many refused lines share their facts (status, availability, consent): each
        # distinct set is judged once by the one rule, distribution.eligibility.evaluate.
        for line_facts in facts_for_lines(CellLine.objects.filter(pk__in=refused)):
            key = (line_facts.status, line_facts.availability, line_facts.consent)
            if key not in answers:
                answer = evaluate(LineFacts("", *key), purpose, disease_ancestors)
                text = " ".join(r.text for r in answer.reasons) or "The donor's consent does not approve this purpose."
                answers[key] = (
                    CONSENT,
                    f"A curator would have to decide: {text}" if answer.decision == duo.ABSTAIN else text,
                )
            consent_texts[line_facts.name] = answers[key]
    worded: dict[int, list] = {}
    for line in failing:
        qc_status, stock_code = facts.get(line.pk, (QCStatus.INCOMPLETE, None))
        reasons = []
        if CONSENT in line.failing:
            reasons.append(
                consent_texts.get(line.name, (CONSENT, "The donor's consent does not approve this purpose."))
            )
        if QC in line.failing:
            reasons.append((QC, f"QC not passed: {QCStatus(qc_status).label}."))
        if STOCK in line.failing:
            term = STOCK_TERMS.get(stock_code or OUT_OF_STOCK, STOCK_TERMS[OUT_OF_STOCK])
            reasons.append((STOCK, f"{term.label}: {term.sentence}"))
        worded[line.pk] = reasons
    return worded
