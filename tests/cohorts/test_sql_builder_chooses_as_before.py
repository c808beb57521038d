"""The builder judges lines in the database (cohorts.exclusions) and shows only the
first lines of each reason; it must choose exactly the cohort the former Python
builder chose (tests/cohorts/reference_builder.py) on the same catalog, seed and
definition: the same members in the same order, the same counts of every exclusion,
the same impossible arm and constraint. With room for every exclusion, it lists the
same lines with the same reasons."""

import random
from collections import Counter

import pytest

from cohorts.builder import CohortImpossible, build
from cohorts.definition import parse_definition
from tests.cohorts import reference_builder
from tests.cohorts.helpers import GRU, HMB, definition, usable_line
from tests.factories import CellLineFactory

pytestmark = pytest.mark.django_db

NCU, IRB, DS = "DUO:0000046", "DUO:0000021", "DUO:0000007"


@pytest.fixture
def catalog():
    """About 100 lines from a seeded draw: carriers, sporadic donors and controls of
    mixed sex, age and ancestry; consents that refuse, ask a curator or forbid profit;
    failed QC, empty stock, restricted and unreleased lines; donors with a second line
    and isogenic subclones."""
    rng = random.Random(15)
    lines = []
    for i in range(70):
        kind = ("c9", "sporadic", "control", "control", "control")[i % 5]
        codes = rng.choice([(GRU,), (GRU,), (GRU,), (HMB,), (GRU, NCU), (HMB, NCU), (GRU, IRB), (DS,)])
        extra = {}
        roll = rng.random()
        if roll < 0.12:
            extra["qc_status"] = rng.choice(["failed", "incomplete"])
        elif roll < 0.2:
            extra["vials_in_stock"] = 0
        elif roll < 0.25:
            extra["availability"] = "restricted"
        elif roll < 0.28:
            extra["status"] = "submitted"
        line = usable_line(
            kind=kind,
            sex=rng.choice(["female", "male"]),
            age=rng.randint(45, 62),
            ancestry=rng.choice(["European", "European", "European", "African"]),
            codes=codes,
            **extra,
        )
        lines.append(line)
        if rng.random() < 0.3:
            CellLineFactory(donor=line.donor, qc_status="passed", vials_in_stock=rng.choice([0, 3]))
        if rng.random() < 0.2:
            CellLineFactory(
                donor=line.donor,
                parental_line=line,
                modification_type="gene_correction",
                qc_status=rng.choice(["passed", "passed", "failed"]),
                vials_in_stock=4,
            )
    return lines


def _three_arms(**extra):
    base = definition(n=3, seed=11)
    base["arms"][0]["filters"] = "gene=C9orf72"
    return {**base, **extra}


DEFINITIONS = {
    "three arms, GRU": _three_arms(),
    "HMB, sex and age ±3": _three_arms(
        purpose={"codes": [HMB]}, matching={"on": ["sex", "age"], "age_tolerance": 3}, seed=5
    ),
    "commercial, several lines per donor, no partners": _three_arms(
        purpose={"codes": [GRU], "commercial": True}, one_line_per_donor=False, isogenic_partners=False
    ),
    "matched on nothing": _three_arms(matching={"on": []}),
    "disease-specific ALS": _three_arms(purpose={"codes": [DS], "disease": "MONDO:0004976"}, seed=99),
    "a control arm matched to sporadic": {
        **_three_arms(matching={"on": ["ancestry", "age"], "age_tolerance": 8}),
        "arms": [
            {"name": "sporadic", "filters": "family_history=sporadic&affection_status=affected", "size": 3},
            {"name": "control", "filters": "affection_status=unaffected", "size": 3, "matched_to": "sporadic"},
        ],
    },
}
IMPOSSIBLE = {
    "too many matched controls": {
        **_three_arms(),
        "arms": [*_three_arms()["arms"][:2], {**_three_arms()["arms"][2], "size": 12}],
    },
    "a case arm short of QC-passed lines": {
        **_three_arms(),
        "arms": [{**_three_arms()["arms"][0], "size": 40}, *_three_arms()["arms"][1:]],
    },
    "controls matched on age ±0": _three_arms(matching={"on": ["sex", "age", "ancestry"], "age_tolerance": 0}),
}


def _chosen(proposal):
    return [
        (
            a["name"],
            a["found"],
            a["spare"],
            a["exclusion_counts"],
            [(m["line"], m["role"], m["matched_to"]) for m in a["members"]],
        )
        for a in proposal["arms"]
    ]


def _listed(proposal):
    return Counter(
        (e["line"], e["arm"], tuple((r["constraint"], r["text"]) for r in e["reasons"])) for e in proposal["exclusions"]
    )


@pytest.mark.parametrize("name", DEFINITIONS)
def test_the_sql_builder_chooses_what_the_python_builder_chose(catalog, researcher, name):
    parsed = parse_definition(DEFINITIONS[name])
    expected = reference_builder.build(parsed, researcher)
    proposal = build(parsed, researcher, exclusions_per_reason=1000)
    assert sum(len(a["members"]) for a in expected["arms"]) >= 6, "the definition should build a real cohort"
    assert _chosen(proposal) == _chosen(expected)
    assert proposal["balance"] == expected["balance"]
    assert _listed(proposal) == _listed(expected)


@pytest.mark.parametrize("name", IMPOSSIBLE)
def test_an_impossible_cohort_fails_on_the_same_arm_and_constraint(catalog, researcher, name):
    parsed = parse_definition(IMPOSSIBLE[name])
    with pytest.raises(CohortImpossible) as expected:
        reference_builder.build(parsed, researcher)
    with pytest.raises(CohortImpossible) as caught:
        build(parsed, researcher)
    assert caught.value.as_dict() == expected.value.as_dict()


def test_only_the_first_lines_of_each_reason_are_shown_but_all_are_counted(catalog, researcher):
    parsed = parse_definition(DEFINITIONS["three arms, GRU"])
    expected = reference_builder.build(parsed, researcher)
    proposal = build(parsed, researcher, exclusions_per_reason=2)
    assert _chosen(proposal) == _chosen(expected)
    everything = _listed(expected)
    assert set(_listed(proposal)) <= set(everything)
    for arm in expected["arms"]:
        for reason, count in arm["exclusion_counts"].items():
            shown = sorted(
                e["line"]
                for e in proposal["exclusions"]
                if e["arm"] == arm["name"] and reason in {r["constraint"] for r in e["reasons"]}
            )
            first = sorted(
                e["line"]
                for e in expected["exclusions"]
                if e["arm"] == arm["name"] and reason in {r["constraint"] for r in e["reasons"]}
            )[:2]
            assert set(first) <= set(shown), (arm["name"], reason)
            assert len(shown) >= min(2, count)
