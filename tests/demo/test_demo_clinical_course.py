"""The demo's clinical course: believable ALSFRS-R trajectories (slow, intermediate and
fast progressors; bulbar and spinal onset), milestones and HPO features, written by the
course writer, so the clinical filters, the cohort builder and the phenopackets have
data in `make run`."""

from collections import Counter

import pytest
from django.db.models import Count

from donors import course
from donors.models import ClinicalEvent, Donor, Visit
from donors.phenopackets import donor_phenopacket, phenopacket_json

pytestmark = pytest.mark.django_db


@pytest.fixture
def patients(seeded):
    return Donor.objects.exclude(disease="").exclude(disease__isnull=True).exclude(alsfrs_r__isnull=True)


def test_every_als_donor_has_visits_and_controls_have_none(patients):
    with_visits = patients.annotate(n=Count("visits")).filter(n__gte=2)
    assert with_visits.count() == patients.count()
    assert not Visit.objects.filter(donor__disease="").exists()


def test_the_visit_at_sampling_is_the_donors_alsfrs_r_and_the_totals_only_fall(patients):
    for donor in patients.prefetch_related("visits"):
        visits = list(donor.visits.all())
        at = next(v for v in visits if v.months_from_onset == donor.sampling_months_from_onset)
        assert at.alsfrs_r == donor.alsfrs_r
        totals = [v.alsfrs_r for v in visits]
        assert totals == sorted(totals, reverse=True), donor.code
        assert float(donor.progression_rate) == course.delta_fs(at.alsfrs_r, at.months_from_onset)


def test_slow_intermediate_and_fast_progressors_bulbar_and_spinal_onset(patients):
    classes = Counter(course.progression_class(d.progression_rate) for d in patients)
    assert all(classes[c] >= 5 for c in course.PROGRESSION_CLASSES), classes
    sites = Counter(patients.values_list("onset_site", flat=True))
    assert sites["bulbar"] >= 10 and sites["spinal"] >= 20
    assert len(set(patients.values_list("kings_stage_at_sampling", flat=True))) >= 4


def test_bulbar_onset_loses_bulbar_points_first(patients):
    for site, region, other in (("bulbar", "bulbar", "gross_motor"), ("spinal", "fine_motor", "bulbar")):
        first_losses = Counter()
        for donor in patients.filter(onset_site=site).prefetch_related("visits"):
            visit = next((v for v in donor.visits.all() if v.alsfrs_r < 48), None)
            if visit:
                first_losses["onset" if 12 - getattr(visit, region) >= 12 - getattr(visit, other) else "other"] += 1
        assert first_losses["onset"] > first_losses["other"], (site, first_losses)


def test_milestones_follow_the_items_and_features_are_hpo(patients):
    gastrostomies = ClinicalEvent.objects.filter(kind="gastrostomy").values_list("donor_id", "months_from_onset")
    assert gastrostomies
    for donor_id, months in gastrostomies:
        later = Visit.objects.filter(donor_id=donor_id, months_from_onset__gt=months)
        assert all("5b" in v.items and "5a" not in v.items for v in later)
    assert ClinicalEvent.objects.filter(kind="niv").exists()
    features = [f for d in patients for f in d.phenotypic_features]
    assert features and all(f.startswith("HP:") for f in features)
    assert patients.exclude(cognitive_status="").count() == patients.count()


def test_a_demo_donor_exports_as_a_phenopacket(patients, curator):
    donor = patients.filter(visits__isnull=False).first()
    packet = phenopacket_json(donor_phenopacket(donor, curator))
    assert packet["subject"]["id"] == donor.code and packet["measurements"]
