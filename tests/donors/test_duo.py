"""The DUO rules (donors/duo.py): the pure matcher and its SQL twin agree on every
case, and the agreement conditions have one list with one wording."""

import csv
import datetime

import pytest

from donors import duo
from donors.duo import (
    ABSTAIN,
    APPROVE,
    DENY,
    ConsentFacts,
    Purpose,
    allows_commercial_use,
    approved_q,
    commercial_use_q,
    conditions,
    disease_ancestors_for,
    evaluate,
)
from donors.models import Consent, Donor
from tests.factories import ConsentFactory, DonorFactory

ALS = "MONDO:0004976"
FAMILIAL_ALS = "MONDO:0005144"
ALS1 = "MONDO:0007103"
FTDALS1 = "MONDO:0007105"
PARKINSON = "MONDO:0005180"
NOT_IN_HIERARCHY = "MONDO:0100000"

PERMISSIONS = (duo.NRES, duo.GRU, duo.HMB, duo.POA)
MODIFIERS = (
    duo.NCU,
    duo.NPU,
    duo.NPUNCU,
    duo.NPOA,
    duo.GSO,
    duo.NMDS,
    duo.IRB,
    duo.PUB,
    duo.COL,
    duo.RTN,
    duo.MOR,
    duo.TS,
    duo.CC,
    duo.RS,
    duo.GS,
    duo.IS,
    duo.PS,
    duo.US,
)

# (codes, consented disease, withdrawn): each permission alone, each modifier on a
# general-research consent, disease-specific consents at several MONDO levels, and
# the combinations whose rules interact.
CONSENTS = [
    *[((code,), "", False) for code in PERMISSIONS],
    *[((duo.GRU, code), "", False) for code in MODIFIERS],
    ((duo.DS,), ALS, False),
    ((duo.DS,), FAMILIAL_ALS, False),
    ((duo.DS,), ALS1, False),
    ((duo.DS,), PARKINSON, False),
    ((duo.DS,), "", False),
    ((duo.DS, duo.NPU), ALS, False),
    ((duo.DS, duo.GSO, duo.IRB), ALS, False),
    ((duo.HMB, duo.NCU), "", False),
    ((duo.HMB, duo.RS), "", False),
    ((duo.NRES, duo.NPOA), "", False),
    ((duo.POA, duo.NPOA), "", False),
    ((duo.POA, duo.NPUNCU), "", False),
    ((duo.IRB,), "", False),
    ((), "", False),
    ((duo.GRU,), "", True),
    ((duo.NRES, duo.NCU), "", True),
]

PURPOSES = [
    Purpose(frozenset({duo.GRU})),
    Purpose(frozenset({duo.HMB})),
    Purpose(frozenset({duo.POA})),
    Purpose(frozenset({duo.DS}), ALS),
    Purpose(frozenset({duo.DS}), FAMILIAL_ALS),
    Purpose(frozenset({duo.DS}), ALS1),
    Purpose(frozenset({duo.DS}), FTDALS1),
    Purpose(frozenset({duo.DS}), PARKINSON),
    Purpose(frozenset({duo.DS}), NOT_IN_HIERARCHY),
    Purpose(frozenset({duo.HMB}), commercial=True),
    Purpose(frozenset({duo.HMB}), organisation_type="commercial"),
    Purpose(frozenset({duo.HMB}), organisation_type="non_profit"),
    Purpose(frozenset({duo.DS}), ALS1, commercial=True, organisation_type="non_profit"),
    Purpose(frozenset({duo.DS, duo.POA}), FTDALS1, organisation_type="non_profit"),
    Purpose(frozenset({duo.GRU, duo.HMB}), organisation_type="commercial"),
]


def _purpose_id(purpose):
    return (
        "+".join(duo.SHORTHAND[c] for c in sorted(purpose.codes))
        + (f"-{purpose.disease}" if purpose.disease else "")
        + ("-for_profit" if purpose.for_profit else "")
    )


@pytest.fixture
def consents(db):
    """Donor code → ConsentFacts (None: a donor with no consent on record)."""
    facts = {}
    for index, (codes, disease, withdrawn) in enumerate(CONSENTS):
        donor = DonorFactory(code=f"DUO-{index:02d}")
        ConsentFactory(
            donor=donor,
            codes=list(codes),
            disease=disease,
            withdrawn_on=datetime.date(2025, 1, 1) if withdrawn else None,
        )
        facts[donor.code] = ConsentFacts(frozenset(codes), disease, withdrawn)
    facts[DonorFactory(code="DUO-NONE").code] = None
    return facts


# --- the two forms agree -------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("purpose", PURPOSES, ids=_purpose_id)
def test_sql_twin_approves_exactly_what_evaluate_approves(consents, purpose):
    duo.check_purpose(purpose)
    ancestors = disease_ancestors_for(purpose.disease)
    expected = {
        code
        for code, facts in consents.items()
        if facts is not None and evaluate(facts, purpose, ancestors).decision == APPROVE
    }
    on_donors = set(
        Donor.objects.filter(approved_q(purpose, ancestors, consent="consent")).values_list("code", flat=True)
    )
    on_consents = set(
        Consent.objects.filter(approved_q(purpose, ancestors, consent="")).values_list("donor__code", flat=True)
    )
    assert on_donors == expected
    assert on_consents == expected


@pytest.mark.django_db
def test_the_parity_cases_reach_every_decision(consents):
    decisions = {
        evaluate(facts, purpose, disease_ancestors_for(purpose.disease)).decision
        for purpose in PURPOSES
        for facts in consents.values()
        if facts is not None
    }
    assert decisions == {APPROVE, DENY, ABSTAIN}


@pytest.mark.django_db
def test_commercial_use_sql_twin_agrees_with_python(consents):
    expected = {code for code, facts in consents.items() if allows_commercial_use(facts)}
    found = set(Donor.objects.filter(commercial_use_q(donor="id")).values_list("code", flat=True))
    assert found == expected
    assert expected and expected != set(consents)


# --- the rules, directly ------------------------------------------------------------------


def facts(*codes, disease="", withdrawn=False):
    return ConsentFacts(frozenset(codes), disease, withdrawn)


def test_disease_specific_consent_follows_mondo_descent():
    purpose = Purpose(frozenset({duo.DS}), ALS1)
    assert evaluate(facts(duo.DS, disease=ALS), purpose, frozenset({ALS, FAMILIAL_ALS})).decision == APPROVE
    assert evaluate(facts(duo.DS, disease=PARKINSON), purpose, frozenset({ALS})).decision == DENY
    # A purpose disease outside the hierarchy cannot be placed: a curator decides.
    assert evaluate(facts(duo.DS, disease=ALS), purpose, None).decision == ABSTAIN


@pytest.mark.parametrize("code", duo.NON_COMMERCIAL_CODES)
def test_non_commercial_modifiers_deny_a_for_profit_requester(code):
    consent = facts(duo.GRU, code)
    assert evaluate(consent, Purpose(frozenset({duo.HMB}), commercial=True)).decision == DENY
    assert evaluate(consent, Purpose(frozenset({duo.HMB}), organisation_type="commercial")).decision == DENY
    assert evaluate(consent, Purpose(frozenset({duo.HMB}), organisation_type="non_profit")).decision == APPROVE
    assert not allows_commercial_use(consent)


def test_withdrawn_consent_is_denied_with_one_reason():
    answer = evaluate(facts(duo.NRES, withdrawn=True), Purpose(frozenset({duo.GRU})))
    assert answer.decision == DENY and len(answer.reasons) == 1 and answer.conditions == []


# --- one list of conditions, one wording ---------------------------------------------------


def test_every_condition_the_workflow_enforces_has_its_wording():
    listed = conditions([*PERMISSIONS, *MODIFIERS])
    assert {c.code for c in listed} == set(duo.AGREEMENT_CONDITIONS) | set(duo.CURATOR_CHECKED_CONDITIONS)
    assert {duo.GSO, duo.NMDS, duo.RS} <= {c.code for c in listed}
    assert [c.code for c in listed] == sorted(c.code for c in listed)
    for condition in listed:
        assert condition.text == duo.CONDITION_TEXT[condition.code]
        assert condition.curator_checks == (condition.code in duo.CURATOR_CHECKED_CONDITIONS)


@pytest.mark.parametrize("codes", [c for c, _, withdrawn in CONSENTS if not withdrawn], ids=str)
def test_evaluate_lists_the_conditions_of_the_consent(codes):
    answer = evaluate(facts(*codes, disease=ALS), Purpose(frozenset({duo.HMB})), frozenset())
    assert answer.conditions == conditions(codes)


# --- the constants are the real DUO terms -----------------------------------------


def test_every_duo_code_used_is_a_current_term_with_that_shorthand(reference_data):
    with open(reference_data / "duo" / "duo_terms.tsv", newline="") as handle:
        terms = {row["id"]: row for row in csv.DictReader(handle, delimiter="\t")}
    for curie, shorthand in duo.SHORTHAND.items():
        assert curie in terms, curie
        assert terms[curie]["shorthand"] == shorthand, curie
        assert terms[curie]["obsolete"] == "False", curie
