"""Eligibility of a line for a request's purpose: every DUO matching rule through the
line-level glue (distribution/eligibility.py over donors/duo.py), with real DUO
CURIEs and real MONDO ids (the built-in MONDO hierarchy in prism.DiseaseTerm).
The DUO rules' own Python/SQL parity is tests/donors/test_duo.py."""

import datetime

import pytest

from distribution.eligibility import LineFacts, evaluate, evaluate_lines, filter_lines_for_purpose
from donors import duo
from donors.duo import (
    ABSTAIN,
    APPROVE,
    DENY,
    ConsentFacts,
    Purpose,
    PurposeError,
    check_purpose,
    disease_ancestors_for,
)
from lines.models import CellLine
from tests.factories import CellLineFactory, ConsentFactory, DonorFactory

ALS = "MONDO:0004976"
FAMILIAL_ALS = "MONDO:0005144"
ALS1 = "MONDO:0007103"
FTDALS1 = "MONDO:0007105"
PARKINSON = "MONDO:0005180"

NRES, GRU, HMB, DS, POA = "DUO:0000004", "DUO:0000042", "DUO:0000006", "DUO:0000007", "DUO:0000011"


def line(*codes, disease="", withdrawn=False, status="released", availability="available"):
    return LineFacts("UKBi001-A", status, availability, ConsentFacts(frozenset(codes), disease, withdrawn))


def purpose(*codes, disease=None, commercial=False, organisation_type="academic"):
    return Purpose(frozenset(codes), disease, commercial, organisation_type)


def decide(line_facts, purpose_, ancestors=frozenset()):
    return evaluate(line_facts, purpose_, ancestors)


# --- the permissions -------------------------------------------------------------


@pytest.mark.parametrize("purpose_code", [GRU, HMB, POA])
def test_no_restriction_consent_allows_every_purpose(purpose_code):
    result = decide(line(NRES), purpose(purpose_code))
    assert result.decision == APPROVE
    assert result.reasons[0].code == NRES


def test_no_restriction_consent_allows_disease_research():
    assert decide(line(NRES), purpose(DS, disease=PARKINSON)).decision == APPROVE


@pytest.mark.parametrize("purpose_code", [GRU, HMB, POA])
def test_general_research_consent_allows_every_purpose(purpose_code):
    result = decide(line(GRU), purpose(purpose_code))
    assert result.decision == APPROVE
    assert result.reasons[0].code == GRU


def test_general_research_consent_allows_disease_specific_purpose():
    assert decide(line(GRU), purpose(DS, disease=PARKINSON)).decision == APPROVE


def test_health_medical_consent_allows_health_medical_purpose():
    result = decide(line(HMB), purpose(HMB))
    assert result.decision == APPROVE
    assert result.reasons[0].code == HMB


def test_health_medical_consent_allows_disease_specific_purpose():
    result = decide(line(HMB), purpose(DS, disease=PARKINSON))
    assert result.decision == APPROVE
    assert result.reasons[0].code == HMB


def test_general_research_purpose_is_denied_on_health_medical_only_consent():
    result = decide(line(HMB), purpose(GRU))
    assert result.decision == DENY
    assert result.reasons[0].code == HMB
    assert "general research use" in result.reasons[0].text


def test_health_medical_purpose_is_denied_on_disease_specific_consent():
    result = decide(line(DS, disease=ALS), purpose(HMB))
    assert result.decision == DENY
    assert result.reasons[0].code == DS


def test_health_medical_purpose_is_denied_on_ancestry_only_consent():
    result = decide(line(POA), purpose(HMB))
    assert result.decision == DENY
    assert result.reasons[0].code == POA


def test_general_research_purpose_is_denied_on_disease_specific_consent():
    assert decide(line(DS, disease=ALS), purpose(GRU)).decision == DENY


def test_ancestry_purpose_is_allowed_on_ancestry_consent():
    result = decide(line(POA), purpose(POA))
    assert result.decision == APPROVE
    assert result.reasons[0].code == POA


@pytest.mark.parametrize("consent_code,disease", [(HMB, ""), (DS, ALS)])
def test_ancestry_purpose_is_denied_on_health_medical_or_disease_consent(consent_code, disease):
    result = decide(line(consent_code, disease=disease), purpose(POA))
    assert result.decision == DENY
    assert "ancestry" in result.reasons[0].text


def test_ancestry_research_prohibited_denies_ancestry_purpose_even_on_general_consent():
    result = decide(line(GRU, "DUO:0000044"), purpose(POA))
    assert result.decision == DENY
    assert result.reasons[0].code == "DUO:0000044"


def test_ancestry_research_prohibited_leaves_other_purposes_alone():
    assert decide(line(GRU, "DUO:0000044"), purpose(HMB)).decision == APPROVE


def test_disease_purpose_is_denied_on_ancestry_only_consent():
    assert decide(line(POA), purpose(DS, disease=ALS)).decision == DENY


def test_every_stated_purpose_must_be_allowed():
    # HMB consent allows disease research but not ancestry research.
    result = decide(line(HMB), purpose(DS, POA, disease=ALS))
    assert result.decision == DENY
    assert len(result.reasons) == 2
    assert any("Population origins or ancestry" in r.text for r in result.reasons)


# --- disease-specific consent and the MONDO hierarchy --------------------------


@pytest.mark.django_db
def test_disease_specific_consent_matches_the_same_disease():
    result = decide(line(DS, disease=ALS), purpose(DS, disease=ALS), disease_ancestors_for(ALS))
    assert result.decision == APPROVE
    assert result.reasons[0].code == DS


@pytest.mark.django_db
def test_disease_specific_consent_matches_a_subtype_of_the_consented_disease():
    # ALS type 1 (SOD1) sits under familial ALS, under ALS.
    result = decide(line(DS, disease=ALS), purpose(DS, disease=ALS1), disease_ancestors_for(ALS1))
    assert result.decision == APPROVE
    assert "form of that disease" in result.reasons[0].text


@pytest.mark.django_db
def test_disease_specific_consent_matches_a_subtype_with_two_parents():
    result = decide(line(DS, disease=ALS), purpose(DS, disease=FTDALS1), disease_ancestors_for(FTDALS1))
    assert result.decision == APPROVE


@pytest.mark.django_db
def test_disease_specific_consent_denies_another_disease():
    result = decide(line(DS, disease=ALS), purpose(DS, disease=PARKINSON), disease_ancestors_for(PARKINSON))
    assert result.decision == DENY
    assert PARKINSON in result.reasons[0].text and ALS in result.reasons[0].text
    assert result.reasons[0].code == DS


@pytest.mark.django_db
def test_disease_specific_consent_denies_a_broader_disease():
    # Consent for ALS type 1 does not cover research on ALS as a whole.
    result = decide(line(DS, disease=ALS1), purpose(DS, disease=ALS), disease_ancestors_for(ALS))
    assert result.decision == DENY


@pytest.mark.django_db
def test_disease_specific_consent_denies_a_sibling_subtype():
    result = decide(line(DS, disease=ALS1), purpose(DS, disease=FTDALS1), disease_ancestors_for(FTDALS1))
    assert result.decision == DENY


def test_disease_specific_consent_without_a_recorded_disease_goes_to_a_curator():
    result = decide(line(DS), purpose(DS, disease=ALS))
    assert result.decision == ABSTAIN
    assert "curator" in result.reasons[0].text


def test_purpose_disease_outside_the_hierarchy_goes_to_a_curator():
    result = decide(line(DS, disease=ALS), purpose(DS, disease="MONDO:0100000"), None)
    assert result.decision == ABSTAIN


@pytest.mark.django_db
def test_ancestors_of_an_unknown_disease_are_unknown():
    assert disease_ancestors_for("MONDO:0100000") is None
    assert FAMILIAL_ALS in disease_ancestors_for(ALS1)


# --- commercial restrictions ----------------------------------------------------

NCU, NPU, NPUNCU = "DUO:0000046", "DUO:0000045", "DUO:0000018"


@pytest.mark.parametrize("code", [NCU, NPU, NPUNCU])
def test_non_commercial_consent_denies_a_commercial_purpose(code):
    result = decide(line(GRU, code), purpose(HMB, commercial=True, organisation_type="academic"))
    assert result.decision == DENY
    assert any(r.code == code and "commercial" in r.text for r in result.reasons)


@pytest.mark.parametrize("code", [NCU, NPU, NPUNCU])
def test_non_commercial_consent_denies_a_for_profit_requester(code):
    result = decide(line(GRU, code), purpose(HMB, commercial=False, organisation_type="commercial"))
    assert result.decision == DENY
    assert any(r.code == code and "for-profit" in r.text for r in result.reasons)


@pytest.mark.parametrize("code", [NCU, NPU, NPUNCU])
@pytest.mark.parametrize("organisation_type", ["academic", "non_profit"])
def test_non_commercial_consent_allows_non_profit_research(code, organisation_type):
    result = decide(line(GRU, code), purpose(HMB, organisation_type=organisation_type))
    assert result.decision == APPROVE


def test_commercial_use_is_allowed_when_consent_has_no_commercial_restriction():
    result = decide(line(GRU), purpose(HMB, commercial=True, organisation_type="commercial"))
    assert result.decision == APPROVE


# --- conditions -------------------------------------------------------------------


@pytest.mark.parametrize(
    "code,words",
    [
        ("DUO:0000021", "Ethics approval"),  # IRB
        ("DUO:0000020", "Collaboration"),  # COL
        ("DUO:0000019", "Publication required"),  # PUB
        ("DUO:0000029", "returned"),  # RTN
        ("DUO:0000024", "moratorium"),  # MOR
        ("DUO:0000025", "Time limit"),  # TS
        ("DUO:0000016", "Genetic studies only"),  # GSO
        ("DUO:0000015", "methods"),  # NMDS
    ],
)
def test_agreement_conditions_keep_the_line_approved_and_are_listed(code, words):
    result = decide(line(GRU, code), purpose(HMB))
    assert result.decision == APPROVE
    assert [c.code for c in result.conditions] == [code]
    assert words in result.conditions[0].text
    assert result.conditions[0].curator_checks is False


@pytest.mark.parametrize(
    "code",
    ["DUO:0000022", "DUO:0000028", "DUO:0000027", "DUO:0000026", "DUO:0000012"],  # GS IS PS US RS
)
def test_restrictions_the_catalog_cannot_check_go_to_a_curator(code):
    result = decide(line(GRU, code), purpose(HMB))
    assert result.decision == ABSTAIN
    assert [c.code for c in result.conditions] == [code]
    assert result.conditions[0].curator_checks is True
    assert any(r.code == code and "curator" in r.text for r in result.reasons)


def test_conditions_do_not_rescue_a_denied_line():
    result = decide(line(HMB, "DUO:0000021", "DUO:0000022"), purpose(GRU))
    assert result.decision == DENY
    assert {c.code for c in result.conditions} == {"DUO:0000021", "DUO:0000022"}


def test_clinical_care_modifier_changes_nothing():
    assert decide(line(HMB, "DUO:0000043"), purpose(HMB)).decision == APPROVE


# --- the line itself --------------------------------------------------------------


def test_withdrawn_consent_denies_every_purpose():
    result = decide(line(GRU, withdrawn=True), purpose(HMB))
    assert result.decision == DENY
    assert "withdrawn consent" in result.reasons[0].text


def test_withdrawn_line_is_denied():
    assert decide(line(GRU, status="withdrawn"), purpose(HMB)).decision == DENY


def test_unreleased_line_is_denied():
    assert decide(line(GRU, status="submitted"), purpose(HMB)).decision == DENY


def test_line_not_distributed_is_denied():
    result = decide(line(GRU, availability="not_distributed"), purpose(HMB))
    assert result.decision == DENY
    assert "not available" in result.reasons[0].text


def test_restricted_line_goes_to_a_curator():
    assert decide(line(GRU, availability="restricted"), purpose(HMB)).decision == ABSTAIN


def test_missing_consent_goes_to_a_curator():
    result = evaluate(LineFacts("UKBi001-A", consent=None), purpose(HMB))
    assert result.decision == ABSTAIN
    assert "No consent" in result.reasons[0].text


def test_consent_without_a_permission_goes_to_a_curator():
    assert decide(line("DUO:0000021"), purpose(HMB)).decision == ABSTAIN


def test_result_as_dict_carries_reasons_with_curies_and_conditions():
    data = decide(line(DS, "DUO:0000021", disease=ALS), purpose(DS, disease=ALS)).as_dict()
    assert data["decision"] == APPROVE
    assert data["reasons"][0]["code"] == DS
    assert data["conditions"][0] == {
        "code": "DUO:0000021",
        "shorthand": "IRB",
        "text": duo.AGREEMENT_CONDITIONS["DUO:0000021"],
        "curator_checks": False,
    }


# --- checking a purpose -----------------------------------------------------------


def test_purpose_needs_a_research_purpose_code():
    with pytest.raises(PurposeError) as error:
        check_purpose(purpose())
    assert "purpose.codes" in error.value.problems


def test_purpose_codes_must_be_research_purposes():
    with pytest.raises(PurposeError) as error:
        check_purpose(purpose(HMB, "DUO:0000021"))
    assert "DUO:0000021" in error.value.problems["purpose.codes"]


def test_disease_specific_purpose_needs_a_disease():
    with pytest.raises(PurposeError) as error:
        check_purpose(purpose(DS))
    assert "purpose.disease" in error.value.problems


def test_disease_without_disease_specific_purpose_is_refused():
    with pytest.raises(PurposeError):
        check_purpose(purpose(HMB, disease=ALS))


def test_unknown_disease_and_organisation_type_are_named():
    with pytest.raises(PurposeError) as error:
        check_purpose(purpose(DS, disease="MONDO:0100000", organisation_type="pharma"), known_diseases={ALS})
    assert set(error.value.problems) == {"purpose.disease", "organisation_type"}


# --- the database-facing wrappers ------------------------------------------------


def _line_with(codes, disease="", **kwargs):
    donor = DonorFactory()
    if codes is not None:
        ConsentFactory(donor=donor, codes=codes, disease=disease, withdrawn_on=kwargs.pop("withdrawn_on", None))
    return CellLineFactory(donor=donor, **kwargs)


@pytest.fixture
def varied_lines(db):
    return [
        _line_with([GRU]),
        _line_with([HMB]),
        _line_with([HMB, NCU]),
        _line_with([DS], disease=ALS),
        _line_with([DS], disease=ALS1),
        _line_with([DS], disease=PARKINSON),
        _line_with([DS]),
        _line_with([POA]),
        _line_with([GRU, "DUO:0000044"]),
        _line_with([NRES]),
        _line_with([GRU, "DUO:0000021"]),
        _line_with([GRU, "DUO:0000028"]),
        _line_with([GRU], withdrawn_on=datetime.date(2025, 1, 1)),
        _line_with([GRU], availability="restricted"),
        _line_with([GRU], status="withdrawn", status_reason="QC failure"),
        _line_with([]),
        _line_with(None),
    ]


PURPOSES = [
    purpose(GRU),
    purpose(HMB),
    purpose(POA),
    purpose(DS, disease=ALS),
    purpose(DS, disease=ALS1),
    purpose(DS, disease=PARKINSON),
    purpose(HMB, commercial=True),
    purpose(HMB, organisation_type="commercial"),
    purpose(DS, POA, disease=FTDALS1, organisation_type="non_profit"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("p", PURPOSES, ids=lambda p: "+".join(sorted(p.codes)) + f"-{p.disease}-{p.for_profit}")
def test_purpose_filter_lists_exactly_the_lines_evaluate_approves(varied_lines, p):
    expected = {r.line for r in evaluate_lines(CellLine.objects.all(), p) if r.decision == APPROVE}
    found = set(
        filter_lines_for_purpose(
            CellLine.objects.all(), p.codes, p.disease, p.commercial, p.organisation_type
        ).values_list("name", flat=True)
    )
    assert found == expected
    assert found  # every purpose here has at least one usable line


@pytest.mark.django_db
def test_purpose_filter_is_one_query_whatever_the_number_of_lines(varied_lines, django_assert_num_queries):
    # One for the disease's ancestors, one for the lines.
    with django_assert_num_queries(2):
        list(filter_lines_for_purpose(CellLine.objects.all(), [DS], ALS1))


@pytest.mark.django_db
def test_evaluate_lines_does_not_query_per_line(varied_lines, django_assert_max_num_queries):
    with django_assert_max_num_queries(5):
        results = evaluate_lines(CellLine.objects.all(), purpose(DS, disease=ALS1))
    assert len(results) == len(varied_lines)


@pytest.mark.django_db
def test_purpose_filter_refuses_a_purpose_it_cannot_judge():
    with pytest.raises(PurposeError):
        filter_lines_for_purpose(CellLine.objects.all(), [DS], None)


# --- the catalog's line filters accept a purpose (lines/holdings/filters.py) ------------------


def _names(response):
    assert response.status_code == 200, response.json()
    return {row["name"] for row in response.json()["results"]}


@pytest.mark.django_db
def test_lines_api_lists_only_what_a_purpose_may_use(varied_lines, api_client):
    expected = set(filter_lines_for_purpose(CellLine.objects.all(), [DS], ALS1).values_list("name", flat=True))
    found = _names(api_client.get("/api/v1/lines/", {"purpose": DS, "purpose_disease": ALS1}))
    assert found == expected
    assert varied_lines[4].name in found  # DS consent on ALS1 itself
    assert varied_lines[5].name not in found  # DS consent on Parkinson


@pytest.mark.django_db
def test_lines_api_purpose_filter_respects_commercial_restrictions(varied_lines, api_client):
    academic = _names(api_client.get("/api/v1/lines/", {"purpose": HMB}))
    company = _names(api_client.get("/api/v1/lines/", {"purpose": HMB, "purpose_organisation_type": "commercial"}))
    ncu_line = varied_lines[2].name
    assert ncu_line in academic and ncu_line not in company


@pytest.mark.django_db
@pytest.mark.parametrize(
    "params,parameter",
    [
        ({"purpose": "DUO:0000021"}, "purpose"),
        ({"purpose": DS}, "purpose_disease"),
        ({"purpose": DS, "purpose_disease": "MONDO:0100000"}, "purpose_disease"),
        ({"purpose_disease": ALS}, "purpose"),
    ],
)
def test_lines_api_names_the_bad_purpose_parameter(api_client, params, parameter):
    response = api_client.get("/api/v1/lines/", params)
    assert response.status_code == 400
    assert parameter in response.json()
