"""Writing a donor's clinical course: visits and milestones, with every derived value
(totals, domains, King's, MiToS, ΔFS; the donor's stages at sampling, slope and rate)
computed by donors.course at writing, never typed. The bulk function is the real one;
the submission writer calls it inside the approval's transaction."""

import datetime
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.db import transaction

from donors import course
from donors.models import ClinicalEvent, Donor, Visit

SUMMARY_FIELDS = [
    "kings_stage_at_sampling",
    "mitos_stage_at_sampling",
    "alsfrs_r_slope",
    "progression_rate",
    "alsfrs_r",
    "diagnostic_criteria",
    "diagnostic_certainty",
    "cognitive_status",
    "phenotypic_features",
    "sampling_months_from_onset",
]


def _date(value: Any) -> datetime.date | None:
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str) and value:
        return datetime.date.fromisoformat(value)
    return None


def _months(entry: Mapping[str, Any], onset: datetime.date | None, date_key: str) -> tuple[float, Any]:
    """(months from onset, the date kept in the bank) of a visit or event: its own
    months_from_onset, else its date counted from the course's onset_date."""
    when = _date(entry.get(date_key))
    if entry.get("months_from_onset") is not None:
        return float(entry["months_from_onset"]), when
    if when is None or onset is None:
        raise ValueError("a visit or event needs months_from_onset, or a date and the course's onset_date")
    return course.months_between(onset, when), when


def _decimal(value: Any, places: str = "0.1") -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal(places))


def write_courses(courses: Iterable[tuple[Donor, Mapping[str, Any]]]) -> None:
    """Write the clinical course of each (donor, course block of protocol v3) pair:
    the visits and events (replacing any the donor had), and the donor's derived
    summary. One transaction; the block must have passed validation (COURSE-*)."""
    courses = [(donor, block) for donor, block in courses if block]
    if not courses:
        return
    visits: list[Visit] = []
    events: list[ClinicalEvent] = []
    with transaction.atomic():
        donors = [donor for donor, _ in courses]
        Visit.objects.filter(donor__in=donors).delete()
        ClinicalEvent.objects.filter(donor__in=donors).delete()
        for donor, block in courses:
            onset = _date(block.get("onset_date"))
            donor_events = []
            for entry in block.get("events") or []:
                months, when = _months(entry, onset, "date")
                donor_events.append(
                    ClinicalEvent(
                        donor=donor,
                        kind=entry["kind"],
                        months_from_onset=Decimal(str(months)).quantize(Decimal("0.1")),
                        event_date=when,
                    )
                )
            death = next((e.months_from_onset for e in donor_events if e.kind == "death"), None)
            derived = []
            for entry in block.get("visits") or []:
                months, when = _months(entry, onset, "date")
                items = {k: v for k, v in (entry.get("alsfrs_r") or {}).items() if v is not None}
                facts = course.derive_visit(items, months, dead=death is not None and months >= float(death))
                derived.append(facts)
                visits.append(
                    Visit(
                        donor=donor,
                        months_from_onset=Decimal(str(months)).quantize(Decimal("0.1")),
                        visit_date=when,
                        items=items,
                        alsfrs_r=facts.total,
                        bulbar=facts.domains["bulbar"],
                        fine_motor=facts.domains["fine_motor"],
                        gross_motor=facts.domains["gross_motor"],
                        respiratory=facts.domains["respiratory"],
                        kings_stage=facts.kings_stage,
                        mitos_stage=facts.mitos_stage,
                        delta_fs=_decimal(facts.delta_fs, "0.01"),
                        fvc_percent_predicted=_decimal(entry.get("fvc_percent_predicted")),
                        weight_kg=_decimal(entry.get("weight_kg")),
                        medications=sorted(set(entry.get("medications") or [])),
                    )
                )
            events.extend(donor_events)
            sampling = block.get("sampling_months_from_onset")
            sampled_on = _date(block.get("sampling_date"))
            if sampling is None and onset is not None and sampled_on is not None:
                sampling = course.months_between(onset, sampled_on)
            summary = course.summarise(derived, sampling)
            donor.sampling_months_from_onset = _decimal(sampling)
            donor.kings_stage_at_sampling = summary.kings_stage_at_sampling or ""
            donor.mitos_stage_at_sampling = summary.mitos_stage_at_sampling
            donor.alsfrs_r_slope = _decimal(summary.slope, "0.001")
            if summary.delta_fs is not None:
                donor.progression_rate = _decimal(summary.delta_fs, "0.01")
            if summary.alsfrs_r_at_sampling is not None:
                donor.alsfrs_r = summary.alsfrs_r_at_sampling
            donor.diagnostic_criteria = block.get("diagnostic_criteria") or ""
            donor.diagnostic_certainty = block.get("diagnostic_certainty") or ""
            donor.cognitive_status = block.get("cognitive_status") or ""
            donor.phenotypic_features = sorted(set(block.get("phenotypic_features") or []))
        Visit.objects.bulk_create(visits, batch_size=2000)
        ClinicalEvent.objects.bulk_create(events, batch_size=2000)
        Donor.objects.bulk_update(donors, SUMMARY_FIELDS, batch_size=1000)


def write_course(donor: Donor, block: Mapping[str, Any]) -> None:
    """write_courses for one donor."""
    write_courses([(donor, block)])
