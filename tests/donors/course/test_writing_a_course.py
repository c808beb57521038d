"""donors.actions.write_course: visits and milestones are stored with every value
derived (never typed), and the donor's stages at sampling follow the visits."""

import datetime

import pytest

from donors.actions import write_course
from donors.models import ClinicalEvent, Visit
from tests.factories import DonorFactory, course_block

pytestmark = pytest.mark.django_db


def test_visits_are_stored_with_derived_totals_and_stages():
    donor = DonorFactory()
    write_course(
        donor,
        course_block(
            (6, {"2": 3}),
            (18, {"2": 2, "8": 1, "10": 0}),
            events=[("niv", 17)],
            sampling=7,
            cognitive_status="ALSci",
            phenotypic_features=["HP:0002380"],
        ),
    )
    visits = list(Visit.objects.filter(donor=donor))
    assert [(float(v.months_from_onset), v.alsfrs_r, v.kings_stage, v.mitos_stage) for v in visits] == [
        (6.0, 47, "1", 0),
        (18.0, 39, "4B", 2),
    ]
    donor.refresh_from_db()
    assert donor.kings_stage_at_sampling == "1"
    assert float(donor.progression_rate) == 0.17
    assert donor.alsfrs_r == 47
    assert donor.cognitive_status == "ALSci"
    assert ClinicalEvent.objects.get(donor=donor).kind == "niv"


def test_dates_become_months_from_onset_and_death_stages_later_visits_5():
    donor = DonorFactory()
    block = course_block(events=[("death", None)])
    block.update(
        onset_date="2023-01-01",
        visits=[{"date": "2023-07-02", "alsfrs_r": {**course_block((0, {}))["visits"][0]["alsfrs_r"], "3": 1}}],
        events=[{"kind": "death", "date": "2023-07-01"}],
    )
    write_course(donor, block)
    visit = Visit.objects.get(donor=donor)
    assert float(visit.months_from_onset) == 6.0
    assert visit.visit_date == datetime.date(2023, 7, 2)
    assert (visit.kings_stage, visit.mitos_stage) == ("5", 5)
