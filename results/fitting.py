"""Four-parameter logistic (4PL) fits of dose-response data, with SciPy.

    response = bottom + (top - bottom) / (1 + 10 ** ((log10(EC50) - log10(c)) * hill))

fitted by least squares (scipy.optimize.curve_fit, trust-region reflective) on
log10 concentration in µM. A falling curve (an inhibitor) has a negative Hill
slope; its EC50 is the IC50. The 95 % confidence interval of the EC50 comes from
the standard error of log10 EC50 (the covariance of the fit) and Student's t with
n − 4 degrees of freedom, back-transformed, as GraphPad Prism reports it.

A fit is refused, with the reason, when it cannot say anything: fewer than four
distinct non-zero concentrations or fewer than five points, no convergence, a
parameter the data do not determine (infinite covariance), or an EC50 outside the
tested range (extrapolated), or an EC50 interval wider than 100-fold either side.
Vehicle rows (concentration 0) are not on a log axis
and are left out of the fit.
"""

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

UNIT_TO_UM = {"nM": 1e-3, "uM": 1.0, "mM": 1e3}
MIN_CONCENTRATIONS = 4
MIN_POINTS = 5
MAX_EVALUATIONS = 5000
# A fit whose EC50 interval is wider than 100-fold either side says nothing about the EC50.
MAX_CI_HALF_WIDTH_LOG10 = 2.0


@dataclass(frozen=True)
class Fit:
    fitted: bool
    message: str = ""
    ec50_um: float | None = None
    ec50_ci_low_um: float | None = None
    ec50_ci_high_um: float | None = None
    hill: float | None = None
    top: float | None = None
    bottom: float | None = None
    r_squared: float | None = None
    points: int = 0


def to_um(concentration: float, unit: str) -> float:
    return concentration * UNIT_TO_UM[unit]


def four_pl(log_c: np.ndarray, bottom: float, top: float, log_ec50: float, hill: float) -> np.ndarray:
    return bottom + (top - bottom) / (1.0 + 10.0 ** ((log_ec50 - log_c) * hill))


def fit_four_pl(concentrations_um: Sequence[float], responses: Sequence[float]) -> Fit:
    """The 4PL fit of one line and compound, or a refusal saying why."""
    pairs = [(c, r) for c, r in zip(concentrations_um, responses, strict=True) if c > 0 and math.isfinite(r)]
    distinct = sorted({c for c, _r in pairs})
    if len(distinct) < MIN_CONCENTRATIONS or len(pairs) < MIN_POINTS:
        return Fit(
            False,
            f"A four-parameter fit needs at least {MIN_CONCENTRATIONS} distinct non-zero concentrations and "
            f"{MIN_POINTS} points; this curve has {len(distinct)} concentration(s) and {len(pairs)} point(s).",
            points=len(pairs),
        )
    x = np.log10(np.array([c for c, _r in pairs], dtype=float))
    y = np.array([r for _c, r in pairs], dtype=float)
    spread = float(np.ptp(y))
    if spread == 0:
        return Fit(False, "Every response is the same: there is no curve to fit.", points=len(pairs))
    low_half, high_half = y[x <= np.median(x)].mean(), y[x > np.median(x)].mean()
    falling = high_half < low_half
    start = [float(y.min()), float(y.max()), float(np.median(x)), -1.0 if falling else 1.0]
    if falling:
        start[0], start[1] = float(y.min()), float(y.max())
    pad = 3 * spread
    bounds = (
        [float(y.min()) - pad, float(y.min()) - pad, float(x.min()) - 3, -10.0],
        [float(y.max()) + pad, float(y.max()) + pad, float(x.max()) + 3, 10.0],
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", optimize.OptimizeWarning)
            params, covariance = optimize.curve_fit(
                four_pl, x, y, p0=start, bounds=bounds, maxfev=MAX_EVALUATIONS, method="trf"
            )
    except optimize.OptimizeWarning:
        return Fit(
            False,
            "The fit's parameters are not determined by these data (covariance could not be estimated).",
            points=len(pairs),
        )
    except (RuntimeError, ValueError) as error:
        return Fit(False, f"The fit did not converge: {error}", points=len(pairs))
    bottom, top, log_ec50, hill = (float(v) for v in params)
    errors = np.sqrt(np.diag(covariance))
    if not np.all(np.isfinite(errors)):
        return Fit(
            False, "The fit's parameters are not determined by these data (infinite standard error).", points=len(pairs)
        )
    if abs(hill) < 1e-3:
        return Fit(False, "The fitted curve is flat (Hill slope ≈ 0): no EC50 can be read from it.", points=len(pairs))
    if not (x.min() - 0.5 <= log_ec50 <= x.max() + 0.5):
        return Fit(
            False,
            f"The fitted EC50 ({10**log_ec50:.3g} µM) lies outside the tested concentrations "
            f"({10 ** x.min():.3g}–{10 ** x.max():.3g} µM): it would be an extrapolation.",
            points=len(pairs),
        )
    dof = len(pairs) - 4
    t = float(stats.t.ppf(0.975, dof))
    half_width = t * float(errors[2])
    if half_width > MAX_CI_HALF_WIDTH_LOG10:
        return Fit(
            False,
            f"The EC50 is not determined by these data: its 95 % confidence interval spans more than "
            f"{10**MAX_CI_HALF_WIDTH_LOG10:.0f}-fold either side of the estimate.",
            points=len(pairs),
        )
    predicted = four_pl(x, bottom, top, log_ec50, hill)
    residual = float(np.sum((y - predicted) ** 2))
    total = float(np.sum((y - y.mean()) ** 2))
    return Fit(
        True,
        "",
        ec50_um=10**log_ec50,
        ec50_ci_low_um=10 ** (log_ec50 - half_width),
        ec50_ci_high_um=10 ** (log_ec50 + half_width),
        hill=hill,
        top=top,
        bottom=bottom,
        r_squared=1 - residual / total if total else None,
        points=len(pairs),
    )
