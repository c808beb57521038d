"""COURSE-1 to COURSE-4 (protocol version 3): a donor's clinical course.

The ALSFRS-R item checks and the stages are donors.course's (the one home of the
derivations); this module only locates what it finds in the document."""

import re

from core.models import PhenotypeTerm
from donors import course
from lines.submissions.rules.findings import as_date, as_dict, as_list, as_number, as_text, pointer

HPO_RE = re.compile(r"^HP:\d{7}$")


def _months(entry, onset):
    months = as_number(entry.get("months_from_onset"))
    if months is not None:
        return float(months)
    when = as_date(entry.get("date"))
    if when is not None and onset is not None:
        return course.months_between(onset, when)
    return None


def check_courses(ctx):
    """Every donor's `course` block; one query for the HPO terms of the whole document."""
    blocks = [(index, donor, as_dict(donor.get("course"))) for index, donor in ctx.donor_items]
    blocks = [(index, donor, block) for index, donor, block in blocks if block]
    if not blocks:
        return
    wanted = {t for _, _, b in blocks for t in as_list(b.get("phenotypic_features")) if isinstance(t, str)}
    known = dict(PhenotypeTerm.objects.filter(curie__in=wanted).values_list("curie", "obsolete")) if wanted else {}
    for index, donor, block in blocks:
        _check_course(ctx, index, as_text(donor.get("local_id")), block, known)


def _check_course(ctx, index, donor_id, block, known):
    at = lambda *parts: pointer("donors", index, "course", *parts)  # noqa: E731

    def add(rule, location, message, severity=None):
        ctx.add(rule, location, message, donor=donor_id, severity=severity)

    onset = as_date(block.get("onset_date"))
    death = None
    for n, event in enumerate(as_list(block.get("events"))):
        event = as_dict(event)
        months = _months(event, onset)
        if months is None:
            add("COURSE-2", at("events", n), "the event has no time: give months_from_onset, or a date and onset_date")
        elif months < 0:
            add("COURSE-2", at("events", n), f"the {event.get('kind')} event is {-months} months before onset")
        elif event.get("kind") == "death":
            death = months
    for n, visit in enumerate(as_list(block.get("visits"))):
        visit = as_dict(visit)
        months = _months(visit, onset)
        if months is None:
            add("COURSE-2", at("visits", n), "the visit has no time: give months_from_onset, or a date and onset_date")
        elif months < 0:
            add(
                "COURSE-2", at("visits", n), f"the visit is {-months} months before onset; a visit cannot precede onset"
            )
        elif death is not None and months > death:
            add("COURSE-2", at("visits", n), f"the visit ({months} months) is after death ({death} months)")
        items = {k: v for k, v in as_dict(visit.get("alsfrs_r")).items() if v is not None}
        problems = course.item_problems(items)
        for item, problem in problems.items():
            add("COURSE-1", at("visits", n, "alsfrs_r", item), f"ALSFRS-R item {item}: {problem}")
        if problems:
            continue
        dead = death is not None and months is not None and months >= death
        typed_kings = visit.get("kings_stage")
        if typed_kings is not None and typed_kings != course.kings_stage(items, dead=dead):
            add(
                "COURSE-3",
                at("visits", n, "kings_stage"),
                f"King's stage {typed_kings} is typed but the items give {course.kings_stage(items, dead=dead)}; "
                "stages are derived: leave it out or correct the items",
            )
        typed_mitos = visit.get("mitos_stage")
        if typed_mitos is not None and typed_mitos != course.mitos_stage(items, dead=dead):
            add(
                "COURSE-3",
                at("visits", n, "mitos_stage"),
                f"MiToS stage {typed_mitos} is typed but the items give {course.mitos_stage(items, dead=dead)}; "
                "stages are derived: leave it out or correct the items",
            )
    for n, term in enumerate(as_list(block.get("phenotypic_features"))):
        if not isinstance(term, str) or not HPO_RE.match(term):
            add(
                "COURSE-4",
                at("phenotypic_features", n),
                f"{term!r} is not an HPO id (HP: and 7 digits, e.g. HP:0002380)",
            )
        elif term not in known:
            add(
                "COURSE-4",
                at("phenotypic_features", n),
                f"{term} is not in the catalog's HPO vocabulary; check the id, or ask a curator to load the current HPO",
                severity="warning",
            )
        elif known[term]:
            add("COURSE-4", at("phenotypic_features", n), f"{term} is obsolete in HPO; use its replacement", "warning")
