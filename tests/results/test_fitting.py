"""The four-parameter logistic fit: it recovers a known curve with an interval that holds
the truth, and refuses, saying why, when the data cannot give an EC50."""

import math
import random

import pytest

from results.fitting import fit_four_pl, to_um
from tests.results.documents import CONCENTRATIONS_UM, response


def curve(ec50, hill=-1.2, noise=2.0, seed=3, replicates=3):
    rng = random.Random(seed)
    xs, ys = [], []
    for c in CONCENTRATIONS_UM:
        for _ in range(replicates):
            xs.append(c)
            ys.append(response(c, ec50, hill=hill) + rng.gauss(0, noise))
    return xs, ys


@pytest.mark.parametrize("ec50", [0.05, 0.8, 6.0])
def test_a_falling_curve_gives_its_ec50_hill_top_and_bottom(ec50):
    fit = fit_four_pl(*curve(ec50))
    assert fit.fitted, fit.message
    assert fit.ec50_ci_low_um < ec50 < fit.ec50_ci_high_um
    assert abs(math.log10(fit.ec50_um / ec50)) < 0.15
    assert fit.hill == pytest.approx(-1.2, abs=0.35)
    assert fit.top == pytest.approx(100, abs=6) and fit.bottom == pytest.approx(8, abs=6)
    assert fit.r_squared > 0.95 and fit.points == 24


def test_a_rising_curve_has_a_positive_hill_slope():
    fit = fit_four_pl(*curve(1.0, hill=1.5))
    assert fit.fitted and fit.hill > 0


def test_vehicle_rows_are_left_out_of_the_log_axis():
    xs, ys = curve(1.0)
    fit = fit_four_pl([0.0, 0.0, *xs], [100.0, 101.0, *ys])
    assert fit.fitted and fit.points == len(xs)


def test_too_few_concentrations_is_refused_saying_how_many_are_needed():
    fit = fit_four_pl([0.1, 0.1, 1, 1, 10, 10], [90, 91, 50, 52, 10, 12])
    assert not fit.fitted and "at least 4 distinct" in fit.message and "3 concentration" in fit.message


def test_a_flat_response_is_refused():
    fit = fit_four_pl(list(CONCENTRATIONS_UM) * 2, [50.0] * 16)
    assert not fit.fitted and "same" in fit.message


def test_noise_with_no_curve_is_refused_with_the_reason():
    rng = random.Random(11)
    xs = list(CONCENTRATIONS_UM) * 3
    fit = fit_four_pl(xs, [50 + rng.gauss(0, 10) for _ in xs])
    assert not fit.fitted and fit.ec50_um is None
    assert "not determined" in fit.message or "did not converge" in fit.message


def test_an_ec50_beyond_the_tested_range_is_refused_as_an_extrapolation():
    xs, ys = curve(100.0, hill=-3, noise=1.0)  # the curve only starts to fall at the top concentration
    fit = fit_four_pl(xs, ys)
    assert not fit.fitted
    assert "outside the tested concentrations" in fit.message and "extrapolation" in fit.message


def test_concentration_units_convert_to_micromolar():
    assert to_um(250, "nM") == pytest.approx(0.25)
    assert to_um(2, "mM") == pytest.approx(2000)
