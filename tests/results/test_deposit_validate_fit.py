"""A recipient deposits a dose-response dataset on the lines shipped to them; the
worker's function validates it, writes the measurements and fits a 4PL per line."""

import pytest

from results.models import DatasetStatus, FitStatus
from results.pipeline import run_validation
from tests.results.documents import dose_response_document

pytestmark = pytest.mark.django_db


def test_a_recipient_deposits_a_dose_response_and_gets_ec50s_with_intervals(recipient, shipped_lines, deposit):
    _request, lines = shipped_lines
    truth = {lines[0].name: 0.5, lines[1].name: 3.0, lines[2].name: 1.2}
    dataset = deposit(recipient, dose_response_document(truth))
    assert dataset.status == DatasetStatus.PENDING_REVIEW, dataset.findings
    assert dataset.measurements.count() == 3 * 8 * 3
    fits = {f.line.name: f for f in dataset.fits.select_related("line")}
    for name, ec50 in truth.items():
        fit = fits[name]
        assert fit.status == FitStatus.FITTED
        assert fit.ec50_ci_low_um < ec50 < fit.ec50_ci_high_um
        assert fit.hill < 0 and fit.top > fit.bottom
    assert len(dataset.document_sha256) == 64


def test_running_the_validation_again_does_nothing(recipient, shipped_lines, deposit):
    _request, lines = shipped_lines
    dataset = deposit(recipient, dose_response_document({lines[0].name: 1.0}))
    assert run_validation(dataset.pk) is None
    assert dataset.measurements.count() == 24
