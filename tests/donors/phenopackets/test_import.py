"""A phenopacket read into a protocol v3 donor entry: export → import → the same derived
course; a bad phenopacket is refused with every problem located by its JSON path."""

import copy

import pytest

from core.models import PhenotypeTerm
from donors.actions import write_course
from donors.models import ClinicalEvent, Donor, Visit
from donors.phenopacket_import import PhenopacketError, donor_entry, into_document
from donors.phenopackets import donor_phenopacket, phenopacket_json
from lines.models import ProtocolVersion
from lines.submissions.protocol.example import valid_document
from lines.submissions.validation import validate_document
from tests.donors.phenopackets.test_export import donor_with
from tests.factories import DonorFactory

pytestmark = pytest.mark.django_db

VISIT_FIELDS = (
    "months_from_onset",
    "items",
    "alsfrs_r",
    "bulbar",
    "fine_motor",
    "gross_motor",
    "respiratory",
    "kings_stage",
    "mitos_stage",
    "delta_fs",
    "fvc_percent_predicted",
    "weight_kg",
    "medications",
)
DONOR_FIELDS = (
    "sampling_months_from_onset",
    "kings_stage_at_sampling",
    "mitos_stage_at_sampling",
    "alsfrs_r",
    "alsfrs_r_slope",
    "progression_rate",
    "diagnostic_criteria",
    "diagnostic_certainty",
    "cognitive_status",
    "phenotypic_features",
)


@pytest.fixture
def exported(curator):
    donor = donor_with("open")
    donor.variants.all().delete()
    return donor, phenopacket_json(donor_phenopacket(donor, curator))


def course_of(donor):
    visits = list(Visit.objects.filter(donor=donor).values_list(*VISIT_FIELDS))
    events = list(ClinicalEvent.objects.filter(donor=donor).values_list("kind", "months_from_onset"))
    fields = Donor.objects.filter(pk=donor.pk).values_list(*DONOR_FIELDS).get()
    return visits, events, fields


def test_export_then_import_gives_the_same_derived_course(exported):
    donor, packet = exported
    entry = donor_entry(packet)
    assert entry["local_id"] == donor.code and entry["sex"] == "female" and entry["disease"] == donor.disease
    assert entry["als"] == {"age_at_onset": 58, "onset_site": "bulbar", "family_history": "sporadic"}
    assert "consent" not in entry
    fresh = DonorFactory(age_at_onset=58, age_at_sampling=58)
    write_course(fresh, entry["course"])
    assert course_of(fresh) == course_of(donor)


def test_the_imported_entry_merged_into_a_document_validates(exported, owner_institution):
    _, packet = exported
    for curie, label in (("HP:0001260", "Dysarthria"), ("HP:0002015", "Dysphagia")):
        PhenotypeTerm.objects.get_or_create(curie=curie, defaults={"label": label})
    document = valid_document(1, protocol="prism-line-submission/3")
    target = document["donors"][0]
    entry = {**donor_entry(packet), "local_id": target["local_id"]}
    merged = into_document(document, entry)
    assert merged["donors"][0]["consent"] == target["consent"]
    assert merged["donors"][0]["course"]["visits"]
    findings = validate_document(merged, protocol=ProtocolVersion.objects.get(number=3), institution=owner_institution)
    assert [f for f in findings if f["severity"] == "error"] == []


def test_a_document_of_an_earlier_protocol_is_refused():
    with pytest.raises(PhenopacketError) as caught:
        into_document(valid_document(1), {"local_id": "D1"})
    assert caught.value.problems[0][0] == "protocol"


def problems(packet):
    with pytest.raises(PhenopacketError) as caught:
        donor_entry(packet)
    return dict(caught.value.problems)


def test_bad_phenopackets_are_refused_with_each_problem_located(exported):
    _, packet = exported
    bad = copy.deepcopy(packet)
    item = next(i for i, m in enumerate(bad["measurements"]) if m["assay"]["id"] == "PRISM:alsfrs-r-item-3")
    bad["measurements"][item]["value"]["quantity"]["value"] = 7
    bad["phenotypicFeatures"][0]["type"]["id"] = "MONDO:0004976"
    bad["diseases"][0]["term"]["id"] = "OMIM:105400"
    found = problems(bad)
    assert "not a whole number 0–4" in found[f"measurements[{item}].value.quantity.value"]
    assert "not an HPO id" in found["phenotypicFeatures[0].type.id"]
    assert "not a MONDO id" in found["diseases[0].term.id"]


def test_a_time_before_onset_or_given_as_a_date_is_located(exported):
    _, packet = exported
    bad = copy.deepcopy(packet)
    bad["measurements"][-1]["timeObserved"] = {"age": {"iso8601duration": "P50Y"}}
    bad["medicalActions"][0]["therapeuticRegimen"]["startTime"] = {"timestamp": "2023-05-17T00:00:00Z"}
    found = problems(bad)
    assert "before the disease's onset" in found[f"measurements[{len(bad['measurements']) - 1}].timeObserved"]
    assert "dates are not taken" in found["medicalActions[0].therapeuticRegimen.startTime"]


def test_json_that_is_not_a_phenopacket_names_the_field():
    assert "Invalid enum value WOMAN" in problems({"subject": {"id": "D1", "sex": "WOMAN"}})["subject.sex"]
    assert "is not a Sex" in problems({"subject": {"id": "D1", "sex": 9}})["subject.sex"]
    assert "no field named" in problems({"subject": {"id": "D1"}, "foo": 1})["$"]
    assert "subject.id" in problems({"subject": {"sex": "MALE"}})


def test_a_total_that_disagrees_with_its_items_is_refused(exported):
    _, packet = exported
    bad = copy.deepcopy(packet)
    total = next(i for i, m in enumerate(bad["measurements"]) if m["assay"]["id"] == "PRISM:alsfrs-r-total")
    bad["measurements"][total]["value"]["quantity"]["value"] = 12
    assert "disagrees with its items" in problems(bad)[f"measurements[{total}].value.quantity.value"]
