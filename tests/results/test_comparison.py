"""Subgroup statistics: per-group summaries, the right test for two, several or paired
groups, with p-value and effect size, and groups too small to test marked."""

import pytest
from scipy import stats

from results.comparison import compare_groups, compare_pairs, describe


def grouped(spec):
    values, groups, names = {}, {}, {}
    n = 0
    for group, numbers in spec.items():
        for number in numbers:
            n += 1
            values[n], groups[n], names[n] = number, group, f"L{n}"
    return values, groups, names


def test_two_groups_get_a_mann_whitney_test_with_rank_biserial_effect():
    answer = compare_groups(*grouped({"SOD1": [0.3, 0.4, 0.35, 0.5], "control": [1.1, 1.3, 0.9, 1.2]}))
    test = answer["test"]
    assert test["name"] == "Mann-Whitney U"
    expected = stats.mannwhitneyu([0.3, 0.4, 0.35, 0.5], [1.1, 1.3, 0.9, 1.2], alternative="two-sided")
    assert test["p_value"] == pytest.approx(expected.pvalue)
    assert test["effect_size"] == pytest.approx(-1.0)  # every SOD1 line below every control
    sod1 = next(g for g in answer["groups"] if g["group"] == "SOD1")
    assert sod1["n"] == 4 and sod1["median"] == pytest.approx(0.375)


def test_three_groups_get_kruskal_wallis_and_a_small_group_is_left_out():
    answer = compare_groups(
        *grouped({"SOD1": [0.3, 0.4, 0.35], "C9orf72": [2.1, 2.4, 2.2, 2.0], "control": [1.0, 1.1, 1.2], "FUS": [0.7]})
    )
    test = answer["test"]
    assert test["name"] == "Kruskal-Wallis H" and test["p_value"] < 0.05
    assert 0 < test["effect_size"] <= 1
    fus = next(g for g in answer["groups"] if g["group"] == "FUS")
    assert fus["too_small"] and "left out" in test["note"]
    assert set(test["groups"]) == {"SOD1", "C9orf72", "control"}


def test_with_one_testable_group_there_is_no_test_and_the_answer_says_why():
    answer = compare_groups(*grouped({"SOD1": [0.3, 0.4, 0.35], "control": [1.0]}))
    assert answer["test"]["name"] is None and "fewer than two groups" in answer["test"]["note"]


def test_isogenic_pairs_get_a_paired_test():
    pairs = [(f"P{i}", f"P{i}-1", 1.0 + i / 10, 2.0 + i / 7) for i in range(6)]
    answer = compare_pairs(pairs)
    assert answer["test"]["name"].startswith("Wilcoxon")
    assert answer["test"]["effect_size"] == pytest.approx(1.0)
    assert answer["differences"]["n"] == 6


def test_too_few_pairs_are_shown_but_not_tested():
    answer = compare_pairs([("P1", "P1-1", 1.0, 2.0)])
    assert answer["too_small"] and answer["test"]["name"] is None and "n too small" in answer["test"]["note"]


def test_describe_gives_median_quartiles_and_range():
    summary = describe([1, 2, 3, 4, 5])
    assert (summary["median"], summary["q1"], summary["q3"], summary["min"], summary["max"]) == (3, 2, 4, 1, 5)
