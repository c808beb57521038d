"""Results inherit the consent of every donor in them (donors.disclosure): who sees a
dataset, and its numbers, for each caller, and the Python and SQL forms agree."""

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser

from distribution.actions.withdrawal import withdraw_consent
from donors.disclosure import may_see_results
from results.actions import release_dataset, tell_depositors_of_withdrawals
from results.models import Dataset
from tests.conftest import client_for
from tests.results.conftest import line_with_consent
from tests.results.documents import differentiation_document

pytestmark = pytest.mark.django_db

CALLERS = ["anonymous", "researcher", "depositor", "other_depositor", "curator"]


@pytest.fixture
def people(researcher, depositor, other_depositor, curator):
    return {
        "anonymous": AnonymousUser(),
        "researcher": researcher,
        "depositor": depositor,
        "other_depositor": other_depositor,
        "curator": curator,
    }


@pytest.fixture
def datasets(depositor, curator, owner_institution, deposit):
    """One released dataset per consent case, deposited by the owning institution's depositor."""
    cases = {}
    for n, (case, level) in enumerate(
        [("open", "open"), ("controlled", "controlled"), ("none", "none"), ("withdrawn", "open"), ("embargoed", "open")]
    ):
        line = line_with_consent(f"UKBi1{n}0-A", genetic_data=level, institution=owner_institution)
        extra = {"embargo_until": (datetime.date.today() + datetime.timedelta(days=90)).isoformat()}
        document = differentiation_document({line.name: 80.0}, **(extra if case == "embargoed" else {}))
        dataset = deposit(depositor, document)
        assert dataset.status == "pending_review", dataset.findings
        release_dataset(dataset, curator)
        cases[case] = dataset
    withdrawn_line = cases["withdrawn"].lines.get()
    withdraw_consent(withdrawn_line.donor, by=curator, reason="The donor asked to withdraw.", notify=False)
    return cases


# Which callers see each case's metadata, and which its numbers.
SEES = {
    "open": set(CALLERS),
    "controlled": {"depositor", "curator"},
    "none": {"depositor", "curator"},
    "withdrawn": {"depositor", "curator"},
    "embargoed": set(CALLERS),
}
SEES_NUMBERS = {**SEES, "embargoed": {"depositor", "curator"}}


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("case", list(SEES))
def test_each_caller_sees_what_the_consent_allows(datasets, people, caller, case):
    user = people[caller]
    dataset = datasets[case]
    listed = Dataset.objects.visible_to(user).filter(pk=dataset.pk).exists()
    assert listed == (caller in SEES[case])
    client = client_for(None if caller == "anonymous" else user)
    detail = client.get(f"/api/v1/datasets/{dataset.pk}/")
    assert detail.status_code == (200 if caller in SEES[case] else 404)
    numbers = client.get(f"/api/v1/datasets/{dataset.pk}/measurements/")
    if caller in SEES[case]:
        assert bool(numbers.json()) == (caller in SEES_NUMBERS[case])
        assert detail.json()["data_shown"] == (caller in SEES_NUMBERS[case])
    else:
        assert numbers.status_code == 404


@pytest.mark.parametrize("caller", CALLERS)
def test_the_python_and_sql_forms_of_the_rule_agree(datasets, people, caller):
    user = people[caller]
    for dataset in datasets.values():
        donors = [item.line.donor for item in dataset.line_items.select_related("line__donor__consent")]
        python = may_see_results(user, donors, dataset.institution_id)
        sql = Dataset.objects.visible_to(user).filter(pk=dataset.pk).exists()
        assert python == sql, (caller, dataset.title)


def test_a_line_without_a_donor_keeps_its_results_to_curators_and_the_institution(
    depositor, curator, owner_institution, deposit, researcher
):
    line = line_with_consent("UKBi190-A", institution=owner_institution)
    line.donor = None
    line.save()
    dataset = deposit(depositor, differentiation_document({line.name: 70.0}))
    release_dataset(dataset, curator)
    assert not Dataset.objects.visible_to(researcher).filter(pk=dataset.pk).exists()
    assert not may_see_results(researcher, [None], dataset.institution_id)
    assert Dataset.objects.visible_to(depositor).filter(pk=dataset.pk).exists()


def test_a_withdrawn_donors_results_are_kept_marked_and_the_depositor_told(datasets, depositor, mailoutbox):
    depositor.email = "dora@example.org"
    depositor.save()
    dataset = datasets["withdrawn"]
    body = client_for(depositor).get(f"/api/v1/datasets/{dataset.pk}/").json()
    assert body["withdrawn_donor"] is True
    assert dataset.measurements.count() == 2  # kept, not deleted
    assert tell_depositors_of_withdrawals() == 1
    assert mailoutbox[-1].to == [depositor.email] and dataset.title in mailoutbox[-1].body
    assert tell_depositors_of_withdrawals() == 0  # told once
