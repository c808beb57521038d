"""ΔFS, the slope between visits, and the progression class with its configurable
cut-offs (Python form and Q twin agree)."""

import pytest

from donors.course import delta_fs, derive_visit, progression_class, progression_class_q, slope, summarise
from donors.models import Donor
from tests.factories import DonorFactory

NORMAL = {k: 4 for k in ("1", "2", "3", "4", "5a", "6", "7", "8", "9", "10", "11", "12")}


def test_delta_fs_is_points_lost_per_month_since_onset():
    assert delta_fs(36, 12) == 1.0
    assert delta_fs(42, 24) == 0.25
    assert delta_fs(40, 0) is None  # at onset there is no rate


def test_slope_is_the_least_squares_fit_of_totals_over_months():
    assert slope([(6, 44), (12, 41), (18, 38)]) == -0.5
    assert slope([(6, 44)]) is None


@pytest.mark.parametrize(
    ("rate", "expected"), [(0.2, "slow"), (0.5, "intermediate"), (1.0, "intermediate"), (1.4, "fast")]
)
def test_default_cut_offs(rate, expected):
    assert progression_class(rate) == expected


def test_cut_offs_come_from_settings(settings):
    settings.PRISM_PROGRESSION_FAST_ABOVE = 0.8
    assert progression_class(0.9) == "fast"


@pytest.mark.django_db
def test_the_q_twin_agrees_with_the_python_form(settings):
    settings.PRISM_PROGRESSION_SLOW_BELOW = 0.4
    rates = [None, "0.10", "0.39", "0.40", "0.75", "1.00", "1.01", "2.50"]
    donors = [DonorFactory(progression_rate=rate) for rate in rates]
    for name in ("slow", "intermediate", "fast"):
        in_sql = set(Donor.objects.filter(progression_class_q([name])).values_list("pk", flat=True))
        in_python = {d.pk for d in donors if progression_class(d.progression_rate) == name}
        assert in_sql == in_python, name


def test_the_visit_nearest_sampling_speaks_for_the_donor():
    early = derive_visit({**NORMAL, "2": 3}, 6)  # 47 at 6 months
    late = derive_visit({**NORMAL, "2": 2, "8": 1, "10": 0}, 24)  # 39 at 24 months, 4B
    summary = summarise([late, early], sampling_months=8)
    assert summary.kings_stage_at_sampling == "1"
    assert summary.alsfrs_r_at_sampling == 47
    assert summary.delta_fs == round(1 / 6, 2)
    assert summary.progression_class == "slow"
    assert summary.slope == round(-8 / 18, 3)
    assert summarise([early, late]).kings_stage_at_sampling == "4B"
