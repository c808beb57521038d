"""A cohort the catalog cannot give fails with the arm and the constraint that
failed, never an empty proposal; a bad definition names where it is wrong."""

import pytest

from cohorts.builder import CohortImpossible, build
from cohorts.definition import DefinitionError, parse_definition
from tests.cohorts.helpers import definition, three_arm_catalog, usable_line

pytestmark = pytest.mark.django_db


def test_no_matching_control_names_the_control_arm_and_matching(researcher):
    three_arm_catalog()
    stricter = definition()
    stricter["arms"][2]["size"] = 4  # three carriers, three controls: a fourth cannot be matched
    usable_line(kind="control", sex="male", age=85)
    with pytest.raises(CohortImpossible) as caught:
        build(parse_definition(stricter), researcher)
    assert caught.value.arm == "control"
    assert caught.value.constraint == "matching"
    assert "needs 4 lines but only 3" in caught.value.message
    assert caught.value.counts == {"matching": 1}


def test_an_arm_short_of_usable_lines_blames_the_constraint_that_excluded_most(researcher):
    three_arm_catalog()
    for _ in range(2):
        usable_line(kind="sporadic", qc_status="failed")
    bigger = definition()
    bigger["arms"][1]["size"] = 5
    with pytest.raises(CohortImpossible) as caught:
        build(parse_definition(bigger), researcher)
    assert (caught.value.arm, caught.value.constraint) == ("sporadic", "qc")
    assert "2 for QC passed" in caught.value.message


def test_an_arm_with_no_line_at_all_blames_its_filters(researcher):
    empty = definition()
    empty["arms"][0]["filters"] = "gene=SOD1"
    with pytest.raises(CohortImpossible) as caught:
        build(parse_definition(empty), researcher)
    assert (caught.value.arm, caught.value.constraint) == ("C9orf72", "filters")


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda d: d["arms"][0].update(size=0), "arms[0].size"),
        (lambda d: d["arms"][2].update(matched_to="nobody"), "arms[2].matched_to"),
        (lambda d: d["arms"][1].update(name="C9orf72"), "arms[1].name"),
        (lambda d: d["arms"][0].update(filters="purpose=DUO:0000042"), "arms[0].filters"),
        (lambda d: d.update(purpose={"codes": []}), "purpose.codes"),
        (lambda d: d.update(seed="soon"), "seed"),
        (lambda d: d.update(matching={"on": ["height"]}), "matching.on"),
    ],
)
def test_a_bad_definition_names_where(change, where):
    bad = definition()
    change(bad)
    with pytest.raises(DefinitionError) as caught:
        parse_definition(bad)
    assert where in caught.value.problems


@pytest.mark.parametrize(
    ("filters", "where"),
    [
        ("sex=robot", "arms[0].filters.sex"),
        ("colour=blue", "arms[0].filters.colour"),
        ("age_min=70&age_max=20", "arms[0].filters.age_min"),
    ],
)
def test_bad_arm_filters_name_the_parameter(researcher, filters, where):
    bad = definition()
    bad["arms"][0]["filters"] = filters
    with pytest.raises(DefinitionError) as caught:
        build(parse_definition(bad), researcher)
    assert where in caught.value.problems


def test_a_disease_specific_purpose_without_a_disease_is_a_definition_error(researcher):
    bad = definition()
    bad["purpose"] = {"codes": ["DUO:0000007"]}
    with pytest.raises(DefinitionError) as caught:
        build(parse_definition(bad), researcher)
    assert any(k.startswith("purpose.") for k in caught.value.problems)


@pytest.mark.parametrize(
    ("on", "words"),
    [(["sex"], "matching on sex"), (["sex", "age"], "matching on sex and age"), ([], "matching to the case arm")],
)
def test_the_matching_constraint_names_only_the_covariates_matched(researcher, on, words):
    three_arm_catalog()
    stricter = definition(matching={"on": on})
    stricter["arms"][2]["size"] = 4  # three carriers, three controls: a fourth cannot be matched
    with pytest.raises(CohortImpossible) as caught:
        build(parse_definition(stricter), researcher)
    assert caught.value.constraint == "matching"
    assert f"Loosen {words}." in caught.value.message
    assert "ancestry" not in caught.value.message
    if "age" not in on:
        assert "age" not in caught.value.message.replace("to the case arm", "")
