"""ALSFRS-R totals and domain subscores (Cedarbaum et al. 1999), and the item checks."""

import pytest

from donors.course import ItemsError, domain_scores, item_problems, total

NORMAL = {k: 4 for k in ("1", "2", "3", "4", "5a", "6", "7", "8", "9", "10", "11", "12")}


def test_a_normal_score_is_48_with_12_in_every_domain():
    assert total(NORMAL) == 48
    assert domain_scores(NORMAL) == {"bulbar": 12, "fine_motor": 12, "gross_motor": 12, "respiratory": 12}


def test_domains_add_up_to_the_total_and_5b_counts_as_item_5():
    items = {**NORMAL, "1": 3, "2": 2, "3": 3}
    del items["5a"]
    items.update({"5b": 1, "8": 2, "12": 3})
    assert domain_scores(items) == {"bulbar": 8, "fine_motor": 9, "gross_motor": 10, "respiratory": 11}
    assert total(items) == 38


@pytest.mark.parametrize(
    ("change", "item", "words"),
    [
        ({"3": 5}, "3", "outside 0–4"),
        ({"3": -1}, "3", "outside 0–4"),
        ({"3": 2.5}, "3", "outside 0–4"),
        ({"5b": 2}, "5b", "both answered"),
        ({"13": 4}, "13", "unknown item"),
    ],
)
def test_bad_items_are_named(change, item, words):
    problems = item_problems({**NORMAL, **change})
    assert words in problems[item]
    with pytest.raises(ItemsError):
        total({**NORMAL, **change})


def test_a_missing_item_and_a_missing_item_5_are_named():
    items = dict(NORMAL)
    del items["7"], items["5a"]
    problems = item_problems(items)
    assert "missing" in problems["7"]
    assert "5a" in problems and "item 5" in problems["5a"]
