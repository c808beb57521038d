"""The builder fills a three-arm C9orf72 / sporadic / control cohort: every member
usable, controls matched on sex and age to a carrier, the balance table per covariate."""

import pytest

from cohorts.builder import build
from cohorts.definition import parse_definition
from tests.cohorts.helpers import definition, three_arm_catalog

pytestmark = pytest.mark.django_db


def test_it_proposes_every_arm_with_matched_controls(researcher):
    c9, sporadic, controls = three_arm_catalog()
    proposal = build(parse_definition(definition()), researcher)
    arms = {arm["name"]: arm for arm in proposal["arms"]}
    assert {m["line"] for m in arms["C9orf72"]["members"]} == {line.name for line in c9}
    assert {m["line"] for m in arms["sporadic"]["members"]} == {line.name for line in sporadic}
    by_line = {m["line"]: m for m in arms["control"]["members"]}
    assert set(by_line) == {line.name for line in controls}
    carriers = {line.name: line for line in c9}
    for control in controls:
        case = carriers[by_line[control.name]["matched_to"]]
        assert case.donor.sex == control.donor.sex
        assert abs(case.donor.age_at_sampling - control.donor.age_at_sampling) <= 5


def test_the_balance_table_has_an_smd_per_covariate_against_the_first_arm(researcher):
    three_arm_catalog()
    proposal = build(parse_definition(definition()), researcher)
    rows = {row["covariate"]: row for row in proposal["balance"]}
    assert {"age at sampling (years)", "sex: female", "ancestry: European"} <= set(rows)
    assert set(rows["sex: female"]["smd"]) == {"sporadic", "control"}
    # Same sexes, ages one year apart: balanced on sex, a small SMD on age.
    assert rows["sex: female"]["smd"]["control"] == 0.0
    assert abs(rows["age at sampling (years)"]["smd"]["control"]) < 0.5


def test_the_same_definition_and_seed_give_the_same_cohort(researcher):
    three_arm_catalog(n=6)
    small = definition(n=3, seed=11)
    first = build(parse_definition(small), researcher)
    again = build(parse_definition(small), researcher)
    assert first == again
    other_seeds = [build(parse_definition(definition(n=3, seed=s)), researcher) for s in range(12, 20)]
    assert any(p["arms"][0]["members"] != first["arms"][0]["members"] for p in other_seeds)
