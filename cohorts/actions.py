"""Writes of cohorts: saving a built cohort (a new id, or the next version of one),
and turning a saved cohort into one distribution request for all its lines."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from cohorts.builder import build
from cohorts.definition import parse_definition
from cohorts.models import Cohort, CohortMember
from distribution.actions.creation import create_request
from distribution.models import DistributionRequest, InvalidAction, NotAllowed
from lines.models import CellLine


class CohortNotFound(LookupError):
    """No cohort with that public id that the user may change."""


def new_public_id() -> str:
    while True:
        public_id = f"COH-{secrets.token_hex(4)}"
        if not Cohort.objects.filter(public_id=public_id).exists():
            return public_id


def save_cohort(
    owner: User,
    definition: Any,
    *,
    name: str,
    description: str = "",
    shared: bool = False,
    public_id: str | None = None,
) -> tuple[Cohort, bool]:
    """Build `definition` afresh and save it: a new cohort, or, with `public_id`, the
        next version of the owner's cohort. Saving an unchanged definition (and name,
        description, sharing) again returns the latest version as it is; the flag says
    whether a version was added. Raises
        DefinitionError, CohortImpossible or CohortNotFound."""
    proposal = build(parse_definition(definition), owner)
    with transaction.atomic():
        version = 1
        if public_id:
            # Locking the latest version serialises two saves of one cohort, so they
            # cannot both take version n+1.
            latest = (
                Cohort.objects.select_for_update().filter(public_id=public_id, owner=owner).order_by("-version").first()
            )
            if latest is None:
                raise CohortNotFound(public_id)
            unchanged = (latest.definition, latest.name, latest.description, latest.shared) == (
                definition,
                name,
                description,
                shared,
            )
            if unchanged:
                return latest, False
            version = latest.version + 1
        else:
            public_id = new_public_id()
        cohort = Cohort.objects.create(
            public_id=public_id,
            version=version,
            name=name,
            description=description,
            owner=owner,
            shared=shared,
            definition=definition,
            seed=proposal["seed"],
            balance=proposal["balance"],
            exclusions={"arms": [_arm_summary(a) for a in proposal["arms"]], "lines": proposal["exclusions"]},
        )
        members = [member for arm in proposal["arms"] for member in arm["members"]]
        CohortMember.objects.bulk_create(
            CohortMember(
                cohort=cohort,
                line_id=member["line_id"],
                arm=member["arm"],
                role=member["role"],
                matched_to=member["matched_to"],
                position=position,
            )
            for position, member in enumerate(members, start=1)
        )
    return cohort, True


def _arm_summary(arm: dict) -> dict:
    return {k: v for k, v in arm.items() if k != "members"}


def request_cohort(requester: User, cohort: Cohort, **details: Any) -> DistributionRequest:
    """One draft distribution request for every line of `cohort`, with the cohort's
    purpose (distribution.actions.creation.create_request judges each line). A
    cohort already requested answers with its request. Raises NotAllowed or
    InvalidAction."""
    if cohort.owner_id != requester.pk:
        raise NotAllowed("Only the cohort's owner may request its lines.")
    with transaction.atomic():
        cohort = Cohort.objects.select_for_update().get(pk=cohort.pk)
        if cohort.request_id is not None:
            return cohort.request  # type: ignore[return-value]
        member_ids = list(cohort.members.order_by("position").values_list("line_id", flat=True))
        visible = CellLine.objects.visible_to(requester).in_bulk(member_ids)
        missing = [pk for pk in member_ids if pk not in visible]
        if missing:
            raise InvalidAction(
                f"{len(missing)} line(s) of this cohort are no longer distributed to you: build it again.",
                {"lines": "not visible"},
            )
        purpose = cohort.definition.get("purpose") or {}
        request = create_request(
            requester,
            [visible[pk] for pk in member_ids],
            purpose_codes=purpose.get("codes") or [],
            purpose_disease=purpose.get("disease") or None,
            commercial=bool(purpose.get("commercial")),
            purpose_summary=details.pop("purpose_summary", "") or f"Screen cohort {cohort.label}: {cohort.name}",
            **details,
        )
        cohort.request = request
        cohort.save(update_fields=["request"])
    return request
