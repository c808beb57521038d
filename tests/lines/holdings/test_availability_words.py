"""lines.availability words the availability rule; distribution.eligibility decides it.
The two must agree: a line the words call requestable is never refused for its
availability, and one they call not requestable always is."""

import pytest

from distribution.eligibility import evaluate_lines
from donors.duo import DENY, Purpose
from lines.availability import TERMS, is_requestable
from lines.models import Availability
from tests.factories import CellLineFactory, ConsentFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("availability", Availability.values)
def test_the_words_agree_with_the_eligibility_rule(availability):
    consent = ConsentFactory(codes=["DUO:0000042"])
    line = CellLineFactory(donor=consent.donor, availability=availability)
    [result] = evaluate_lines([line], Purpose(frozenset({"DUO:0000042"}), None, False, "academic"))
    assert is_requestable(line) == TERMS[availability].requestable
    assert (result.decision != DENY) == is_requestable(line), result.reasons
