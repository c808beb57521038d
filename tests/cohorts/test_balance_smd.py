"""The balance table's standardised mean difference against worked values (Austin 2009)."""

import pytest

from cohorts.balance import balance_table, smd_continuous, smd_proportion


def test_continuous_smd_is_the_difference_over_the_pooled_sd():
    assert smd_continuous([1, 2, 3], [2, 3, 4]) == -1.0
    assert smd_continuous([50, 60], [50, 60]) == 0.0


def test_proportion_smd():
    assert smd_proportion(0.6, 0.4) == pytest.approx(0.408, abs=1e-3)
    assert smd_proportion(1.0, 1.0) == 0.0
    assert smd_proportion(1.0, 0.0) is None  # no spread on either side: undefined, shown as –


def test_the_table_compares_every_arm_with_the_first():
    member = lambda sex, age, ancestry: {"sex": sex, "age": age, "ancestry": ancestry}  # noqa: E731
    rows = balance_table(
        {
            "case": [member("female", 50, "European"), member("male", 60, "European")],
            "control": [member("female", 52, "European"), member("male", 58, "African")],
        }
    )
    by_name = {row["covariate"]: row for row in rows}
    assert by_name["sex: female"]["smd"] == {"control": 0.0} and by_name["sex: female"]["balanced"]
    assert by_name["ancestry: African"]["summary"] == {"case": "0%", "control": "50%"}
    assert not by_name["ancestry: African"]["balanced"]
