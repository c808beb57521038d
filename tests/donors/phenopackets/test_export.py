"""A donor as a Phenopacket v2: built with the package's classes, parsed back by
protobuf's JSON parser, with no exact date and variants only where disclosure allows."""

import datetime
import json

import pytest
from google.protobuf import json_format
from phenopackets import Phenopacket

from donors.models import Donor
from donors.phenopackets import NotDisclosed, donor_phenopacket, iso_duration, phenopacket_json
from tests.factories import ConsentFactory, DonorWithCourseFactory, VariantFactory, course_block

pytestmark = pytest.mark.django_db

COURSE = course_block(
    (4.5, {"1": 3, "2": 3}),
    (10, {"1": 2, "2": 2, "3": 3, "8": 3}),
    (16.2, {"1": 1, "2": 2, "3": 1, "8": 2, "12": 3}),
    sampling=10,
    diagnostic_criteria="el_escorial",
    diagnostic_certainty="probable",
    cognitive_status="ALSci",
    phenotypic_features=["HP:0001260", "HP:0002015"],
    events=[("gastrostomy", 17.0), ("niv", 16.5)],
)


def donor_with(genetic_data="open", withdrawn=None):
    donor = DonorWithCourseFactory(course=COURSE, onset_site="bulbar", age_at_onset=58, age_at_sampling=58)
    ConsentFactory(donor=donor, genetic_data=genetic_data, withdrawn_on=withdrawn)
    VariantFactory(donor=donor)
    donor.visits.filter(months_from_onset=10).update(visit_date=datetime.date(2023, 5, 17))
    for i, visit in enumerate(donor.visits.all()):
        visit.fvc_percent_predicted = 90 - 10 * i
        visit.weight_kg = 71.5 - i
        visit.medications = ["riluzole"] if i else []
        visit.save()
    return Donor.objects.select_related("consent").get(pk=donor.pk)


def parsed_back(donor, user):
    data = phenopacket_json(donor_phenopacket(donor, user))
    text = json.dumps(data)
    return data, text, json_format.Parse(text, Phenopacket())


def test_the_export_parses_back_into_the_phenopacket_class(researcher):
    data, _, packet = parsed_back(donor_with(), researcher)
    assert packet.subject.id == data["subject"]["id"]
    assert packet.subject.sex == 1  # FEMALE
    assert packet.diseases[0].term.id == "MONDO:0004976"
    assert packet.diseases[0].onset.age.iso8601duration == "P58Y"
    assert packet.meta_data.phenopacket_schema_version == "2.0"
    assert [f.type.id for f in packet.phenotypic_features] == ["HP:0001260", "HP:0002015"]


def test_times_are_ages_from_onset_and_no_date_leaves_the_bank(researcher):
    data, text, packet = parsed_back(donor_with(), researcher)
    assert packet.subject.time_at_last_encounter.age.iso8601duration == "P59Y5M"  # 58 y + 17 months
    assert packet.biosamples[0].time_of_collection.age.iso8601duration == "P58Y10M"
    assert "2023-05-17" not in text and "2024-01-10" not in text
    assert "timestamp" not in text


def test_alsfrs_r_items_totals_fvc_and_weight_are_measurements(researcher):
    _, _, packet = parsed_back(donor_with(), researcher)
    at_10 = [m for m in packet.measurements if m.time_observed.age.iso8601duration == "P58Y10M"]
    by_code = {m.assay.id: m.value.quantity.value for m in at_10}
    assert by_code["PRISM:alsfrs-r-total"] == 48 - 2 - 2 - 1 - 1
    assert by_code["PRISM:alsfrs-r-item-1"] == 2 and by_code["PRISM:alsfrs-r-item-5a"] == 4
    assert by_code["PRISM:fvc-percent-predicted"] == 80
    assert by_code["LOINC:29463-7"] == 70.5
    choices = {m.assay.id: m.value.ontology_class.id for m in packet.measurements if m.value.ontology_class.id}
    assert choices["PRISM:onset-site"] == "PRISM:onset-site-bulbar"
    assert choices["PRISM:diagnostic-certainty"] == "PRISM:diagnostic-certainty-probable"


def test_medication_and_milestones_are_medical_actions(researcher):
    _, _, packet = parsed_back(donor_with(), researcher)
    regimens = [a.therapeutic_regimen for a in packet.medical_actions if a.HasField("therapeutic_regimen")]
    assert [(r.ontology_class.label, r.start_time.age.iso8601duration) for r in regimens] == [("riluzole", "P58Y10M")]
    procedures = {
        a.procedure.code.id: a.procedure.performed.age.iso8601duration
        for a in packet.medical_actions
        if a.HasField("procedure")
    }
    assert procedures == {"PRISM:gastrostomy": "P59Y5M", "PRISM:non-invasive-ventilation": "P59Y4M15D"}


def test_variants_are_interpreted_only_where_genetic_data_is_shown(researcher, curator):
    _, _, packet = parsed_back(donor_with("open"), researcher)
    descriptor = packet.interpretations[0].diagnosis.genomic_interpretations[0].variant_interpretation
    assert descriptor.variation_descriptor.gene_context.symbol
    controlled = donor_with("controlled")
    _, _, for_curator = parsed_back(controlled, curator)
    assert len(for_curator.interpretations) == 1


@pytest.mark.parametrize("level,withdrawn", [("controlled", None), ("none", None), ("open", datetime.date(2025, 1, 2))])
def test_a_course_the_consent_keeps_to_curators_is_not_exported_to_others(level, withdrawn, researcher, depositor):
    donor = donor_with(level, withdrawn)
    for user in (researcher, depositor, None):
        with pytest.raises(NotDisclosed):
            donor_phenopacket(donor, user)


@pytest.mark.parametrize(
    "months,text", [(0, "P0D"), (10, "P10M"), (12, "P1Y"), (14.5, "P1Y2M15D"), (0.1, "P3D"), (732 + 4.2, "P61Y4M6D")]
)
def test_months_are_written_as_iso8601_durations(months, text):
    assert iso_duration(months) == text
