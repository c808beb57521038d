"""The cohort builder page opens with an example (C9orf72 / sporadic / matched
controls): on the demo catalog that example must build, so a new user who presses
"Propose" sees a cohort, its balance table and its exclusions, not an impossible-cohort
error."""

import pytest
from django.contrib.auth import get_user_model
from django.http import QueryDict

from cohorts.builder import build
from cohorts.definition import parse_definition
from cohorts.views import _form_state, definition_from_form

pytestmark = pytest.mark.django_db


def _example_post() -> QueryDict:
    form = _form_state()
    post = QueryDict(mutable=True)
    for arm in form["arms"]:
        i = arm["i"]
        post[f"arm{i}_name"] = arm["name"]
        post[f"arm{i}_filters"] = arm["filters"]
        post[f"arm{i}_size"] = str(arm["size"])
        post[f"arm{i}_matched_to"] = arm["matched_to"]
    post.setlist("purpose", form["purpose"])
    post.setlist("match_on", form["match_on"])
    post["seed"] = str(form["seed"])
    post["age_tolerance"] = form["age_tolerance"]
    if form["isogenic"]:
        post["isogenic"] = "on"
    return post


def test_the_builder_pages_example_builds_on_the_demo_catalog(seeded):
    researcher = get_user_model().objects.get(username="researcher")
    definition = parse_definition(definition_from_form(_example_post()))
    proposal = build(definition, researcher)
    by_arm = {arm["name"]: arm for arm in proposal["arms"]}
    assert set(by_arm) == {"C9orf72", "sporadic", "control"}
    for name, arm in by_arm.items():
        chosen = [m for m in arm["members"] if m["role"] != "isogenic"]
        assert len(chosen) == arm["size"] == 4, (name, arm)
    assert by_arm["control"]["matched_to"] == "C9orf72"
    assert proposal["balance"], "the matched arm shows its balance table"
