"""A cohort definition: what a researcher asks the builder for, parsed and checked.

A definition is plain JSON (saved as it was given, so it can be built again):

    {"seed": 42,
     "purpose": {"codes": ["DUO:0000042"], "disease": null, "commercial": false},
     "one_line_per_donor": true, "isogenic_partners": true,
     "matching": {"on": ["sex", "age", "ancestry"], "age_tolerance": 5},
     "arms": [
       {"name": "C9orf72", "filters": "gene=C9orf72&progression_class=fast", "size": 12},
       {"name": "sporadic", "filters": {"family_history": ["sporadic"]}, "size": 12},
       {"name": "control", "filters": "affection_status=unaffected", "size": 12, "matched_to": "C9orf72"}]}

An arm's filters are the catalog's (lines.holdings.filters.CellLineFilter: any of
its parameters, as a query string or an object), the purpose is the cohort's, one
for every arm. Every problem is a DefinitionError keyed by where it is
("arms[2].size"), which the API answers as a 400."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from django.conf import settings
from django.http import QueryDict

from donors.duo import Purpose

MATCH_COVARIATES = ("sex", "age", "ancestry")
# The purpose is the cohort's own (one for all arms); an arm cannot state another.
ARM_FORBIDDEN_FILTERS = ("purpose", "purpose_disease", "purpose_commercial", "purpose_organisation_type")
MAX_ARMS = 6
MAX_SEED = 2**53


class DefinitionError(ValueError):
    """A definition the builder cannot read; `problems` maps where → what."""

    def __init__(self, problems: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = problems


@dataclass(frozen=True)
class Arm:
    name: str
    filters: QueryDict
    size: int
    matched_to: str | None = None


@dataclass(frozen=True)
class Definition:
    arms: tuple[Arm, ...]
    purpose: Purpose
    seed: int
    one_line_per_donor: bool = True
    isogenic_partners: bool = True
    match_on: tuple[str, ...] = MATCH_COVARIATES
    age_tolerance: int = 5
    raw: dict = field(default_factory=dict, compare=False)

    def arm(self, name: str) -> Arm:
        return next(arm for arm in self.arms if arm.name == name)


def _filters(value: Any, where: str, problems: dict[str, str]) -> QueryDict:
    params = QueryDict(mutable=True)
    if value in (None, ""):
        return params
    if isinstance(value, str):
        pairs = parse_qsl(value.strip().lstrip("?"), keep_blank_values=False)
    elif isinstance(value, dict):
        pairs = []
        for key, item in value.items():
            items = item if isinstance(item, list) else [item]
            pairs.extend((str(key), "true" if v is True else "false" if v is False else str(v)) for v in items)
    else:
        problems[where] = "Give the arm's catalog filters as a query string or an object."
        return params
    for key, item in pairs:
        if key in ARM_FORBIDDEN_FILTERS:
            problems[where] = f"'{key}' is the cohort's purpose, stated once for every arm, not an arm filter."
        params.appendlist(key, item)
    return params


def _int(value: Any, where: str, problems: dict[str, str], low: int, high: int, default: int | None = None) -> int:
    if value is None and default is not None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | str):
        problems[where] = f"Must be a whole number from {low} to {high}."
        return low
    try:
        number = int(value)
    except ValueError:
        problems[where] = f"Must be a whole number from {low} to {high}."
        return low
    if not low <= number <= high:
        problems[where] = f"Must be from {low} to {high}."
    return number


def _bool(value: Any, where: str, problems: dict[str, str], default: bool) -> bool:
    if value is None:
        return default
    if not isinstance(value, bool):
        problems[where] = "Must be true or false."
        return default
    return value


def parse_definition(data: Any) -> Definition:
    """The Definition `data` states, or DefinitionError naming every problem."""
    if not isinstance(data, dict):
        raise DefinitionError({"definition": "Must be an object with arms, purpose and seed."})
    problems: dict[str, str] = {}
    seed = _int(data.get("seed"), "seed", problems, 0, MAX_SEED, default=0)
    purpose_data = data.get("purpose") or {}
    if not isinstance(purpose_data, dict):
        problems["purpose"] = "Must be an object: codes (DUO), disease (MONDO), commercial."
        purpose_data = {}
    codes = purpose_data.get("codes") or []
    if isinstance(codes, str):
        codes = [codes]
    if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
        problems["purpose.codes"] = "Must be a list of DUO codes."
        codes = []
    if not codes:
        problems["purpose.codes"] = "State the screen's purpose as DUO codes (DUO:0000042 GRU, DUO:0000006 HMB, ...)."
    purpose = Purpose(
        frozenset(codes),
        purpose_data.get("disease") or None,
        _bool(purpose_data.get("commercial"), "purpose.commercial", problems, False),
        purpose_data.get("organisation_type") or "academic",
    )
    matching = data.get("matching") or {}
    if not isinstance(matching, dict):
        problems["matching"] = "Must be an object: on (sex, age, ancestry), age_tolerance."
        matching = {}
    match_on = matching.get("on", list(MATCH_COVARIATES))
    if not isinstance(match_on, list) or any(c not in MATCH_COVARIATES for c in match_on):
        problems["matching.on"] = f"Choose from {', '.join(MATCH_COVARIATES)}."
        match_on = list(MATCH_COVARIATES)
    tolerance = _int(
        matching.get("age_tolerance"),
        "matching.age_tolerance",
        problems,
        0,
        50,
        default=settings.COHORT_DEFAULT_AGE_TOLERANCE,
    )
    arms_data = data.get("arms")
    arms: list[Arm] = []
    if not isinstance(arms_data, list) or not arms_data:
        problems["arms"] = "Give at least one arm."
        arms_data = []
    if len(arms_data) > MAX_ARMS:
        problems["arms"] = f"At most {MAX_ARMS} arms."
    names: set[str] = set()
    for i, arm in enumerate(arms_data):
        where = f"arms[{i}]"
        if not isinstance(arm, dict):
            problems[where] = "Must be an object: name, filters, size."
            continue
        name = str(arm.get("name") or "").strip()
        if not name or len(name) > 60:
            problems[f"{where}.name"] = "Give the arm a name of 1 to 60 characters."
        elif name in names:
            problems[f"{where}.name"] = f"Two arms are called '{name}'."
        names.add(name)
        size = _int(arm.get("size"), f"{where}.size", problems, 1, settings.COHORT_MAX_ARM_SIZE)
        matched_to = arm.get("matched_to") or None
        arms.append(Arm(name, _filters(arm.get("filters"), f"{where}.filters", problems), size, matched_to))
    for i, arm in enumerate(arms):
        if arm.matched_to is None:
            continue
        case = next((a for a in arms if a.name == arm.matched_to), None)
        if case is None or case is arm:
            problems[f"arms[{i}].matched_to"] = f"No other arm is called '{arm.matched_to}'."
        elif case.matched_to is not None:
            problems[f"arms[{i}].matched_to"] = f"'{case.name}' is itself matched: match to a case arm."
    one_per_donor = _bool(data.get("one_line_per_donor"), "one_line_per_donor", problems, True)
    isogenic = _bool(data.get("isogenic_partners"), "isogenic_partners", problems, True)
    if problems:
        raise DefinitionError(problems)
    return Definition(
        arms=tuple(arms),
        purpose=purpose,
        seed=seed,
        one_line_per_donor=one_per_donor,
        isogenic_partners=isogenic,
        match_on=tuple(match_on),
        age_tolerance=tolerance,
        raw=data,
    )
