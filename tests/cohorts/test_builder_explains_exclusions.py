"""Every line an arm's filters find and the builder leaves out is listed with why:
consent, QC, stock, donor already used, matching. Lines the user may not see never are."""

import pytest

from cohorts.builder import build
from cohorts.definition import parse_definition
from tests.cohorts.helpers import HMB, definition, three_arm_catalog, usable_line
from tests.factories import CellLineFactory

pytestmark = pytest.mark.django_db


def reasons_of(proposal):
    return {e["line"]: {r["constraint"] for r in e["reasons"]} for e in proposal["exclusions"]}


def test_each_exclusion_names_its_constraint(researcher):
    three_arm_catalog()
    no_consent = usable_line(kind="c9", codes=("DUO:0000007",))  # disease-specific consent, no disease asked
    failed_qc = usable_line(kind="c9", qc_status="failed")
    no_stock = usable_line(kind="c9", vials_in_stock=0)
    both = usable_line(kind="c9", qc_status="incomplete", vials_in_stock=0)
    second_line = CellLineFactory(donor=failed_qc.donor, qc_status="passed", vials_in_stock=3)
    unmatched = usable_line(kind="control", sex="male", age=90)
    hidden = usable_line(kind="c9", status="submitted")
    proposal = build(parse_definition(definition()), researcher)
    reasons = reasons_of(proposal)
    assert reasons[no_consent.name] == {"consent"}
    assert reasons[failed_qc.name] == {"qc"}
    assert reasons[no_stock.name] == {"stock"}
    assert reasons[both.name] == {"qc", "stock"}
    assert reasons[unmatched.name] == {"matching"}
    assert hidden.name not in reasons
    # The second line of a donor whose line is excluded is still usable, but not needed:
    # the arm is full, so it is neither a member nor excluded.
    members = {m["line"] for arm in proposal["arms"] for m in arm["members"]}
    assert second_line.name not in reasons or reasons[second_line.name] == {"donor"}
    assert not members & set(reasons)
    texts = {e["line"]: e["reasons"][0]["text"] for e in proposal["exclusions"]}
    assert "QC" in texts[failed_qc.name]
    assert "No case in 'C9orf72'" in texts[unmatched.name]


def test_one_line_per_donor_unless_asked(researcher):
    carrier = usable_line(kind="c9")
    sibling_clone = CellLineFactory(donor=carrier.donor, qc_status="passed", vials_in_stock=2)
    one_arm = {"seed": 1, "purpose": {"codes": [HMB]}, "arms": [{"name": "C9", "filters": "gene=C9orf72", "size": 1}]}
    proposal = build(parse_definition(one_arm), researcher)
    two = {**one_arm, "arms": [{**one_arm["arms"][0], "size": 2}]}
    with pytest.raises(Exception, match="donor"):
        build(parse_definition(two), researcher)
    proposal = build(parse_definition({**two, "one_line_per_donor": False}), researcher)
    assert {m["line"] for m in proposal["arms"][0]["members"]} == {carrier.name, sibling_clone.name}


def test_isogenic_partners_join_the_arm_of_their_line(researcher):
    carrier = usable_line(kind="c9")
    corrected = CellLineFactory(
        donor=carrier.donor,
        parental_line=carrier,
        modification_type="gene_correction",
        qc_status="passed",
        vials_in_stock=4,
    )
    one_arm = {
        "seed": 3,
        "purpose": {"codes": ["DUO:0000042"]},
        "arms": [{"name": "C9", "filters": "gene=C9orf72", "size": 1}],
    }
    proposal = build(parse_definition({**one_arm, "one_line_per_donor": True}), researcher)
    members = {m["line"]: m for m in proposal["arms"][0]["members"]}
    assert len(members) == 2
    partner = corrected.name if members[carrier.name]["role"] == "case" else carrier.name
    assert members[partner]["role"] == "isogenic"
