"""A write made here changes every facet count at once on another process: a gunicorn
subprocess (two workers, each with its own facet index) serves /api/v1/lines/facets/
while this test process writes (PostgreSQL only, as tests/pages/...across_processes)."""

import json

import pytest

from tests.factories import CellLineFactory, ConsentFactory, DonorFactory
from tests.pages.test_cached_figures_across_processes import fetch, web_process  # noqa: F401 - the fixture

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def counts(base):
    """{facet: {value: count}} asked of both workers (several requests), which must agree."""
    seen = set()
    for _ in range(4):
        facets = json.loads(fetch(f"{base}/api/v1/lines/facets/"))["facets"]
        seen.add(json.dumps({name: {v["value"]: v["count"] for v in values} for name, values in facets.items()}))
    assert len(seen) == 1, f"the workers disagree: {seen}"
    return json.loads(seen.pop())


def test_a_changed_line_changes_every_count_at_once_on_another_process(web_process, owner_institution):  # noqa: F811
    donor = DonorFactory(institution=owner_institution, sex="male", ancestry="European", donor_number="001")
    ConsentFactory(donor=donor)
    line = CellLineFactory(donor=donor, name="UKBi001-A", qc_status="failed", reprogramming_method="sendai")
    before = counts(web_process)
    assert before["sex"] == {"male": 1}
    assert before["qc_status"] == {"failed": 1}

    line.qc_status, line.reprogramming_method = "passed", "episomal"
    line.save()
    donor.sex, donor.ancestry = "female", "African"
    donor.save()
    after = counts(web_process)
    assert after["sex"] == {"female": 1}
    assert after["ancestry"] == {"African": 1}
    assert after["qc_status"] == {"passed": 1}
    assert after["reprogramming_method"] == {"episomal": 1}

    line.status, line.status_reason = "withdrawn", "consent withdrawn"
    line.save()
    assert counts(web_process)["sex"] == {}
