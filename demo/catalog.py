"""The demo catalog: an invented but realistic ALS consortium, built deterministically.

`seed_demo()` writes institutions, donors (familial and sporadic ALS across the
known genes, C9orf72 expansion carriers, healthy controls), consent, variants,
lines with isogenic sets, full QC panels, distribution requests and one demo user
per role, in one transaction. Everything is drawn from one `random.Random(SEED)`
in a fixed order and dated relative to a fixed ANCHOR day, so every run writes
the same catalog.

demo/plan.py draws the catalog (demo/qc.py its QC panels) from the facts in
demo/facts.py; demo/people.py makes the demo users; demo/requests.py makes the
requests and withdrawals through the workflow's actions, as users would.

Running it again replaces exactly the objects an earlier run wrote (matched by
line name, donor code, demo usernames and institution codes) and leaves
everything else alone; it refuses, changing nothing, when other data points at
demo objects (a real request for a demo line, say).
"""

import hashlib
import random
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import ProtectedError, RestrictedError
from django.test.utils import override_settings
from simple_history.utils import bulk_create_with_history

from core.models import Institution
from demo.course import make_courses
from demo.drawing import ANCHOR, CHANGE_REASON, SEED
from demo.network import register_demo_peers
from demo.people import DEMO_USERS, REQUESTER_USERNAMES, write_users
from demo.plan import Plan
from demo.requests import DemoRequests, make_withdrawals
from demo.results import delete_demo_results, make_results
from demo.stock import delete_demo_stock, seed_stock
from distribution.models import DistributionRequest, RequestedLine, Shipment
from donors.affection import refresh_affection_status
from donors.models import ClinicalEvent, Consent, Donor, Variant, Visit
from lines.models import CellLine, QCRecord
from lines.search_text import refresh_search_text
from lines.str.store import DONOR, LINE, reindex_many, unindex

__all__ = [
    "ANCHOR",
    "DEMO_USERS",
    "SEED",
    "DemoConflict",
    "build_builder",
    "demo_digest",
    "seed_demo",
]


class DemoConflict(Exception):
    """The demo cannot be (re)built without touching data that is not the demo's."""


@dataclass
class DemoSummary:
    institutions: int = 0
    donors: int = 0
    lines: int = 0
    qc_records: int = 0
    variants: int = 0
    requests: int = 0
    stock: dict = field(default_factory=dict)
    datasets: int = 0
    visits: int = 0
    replaced_lines: int = 0
    credentials: list = field(default_factory=list)


def catalog_has_lines():
    return CellLine.objects.exists()


# ---------------------------------------------------------------- writing


def _demo_scope(plan_line_names, plan_donor_codes):
    return (
        CellLine.objects.filter(name__in=plan_line_names),
        Donor.objects.filter(code__in=plan_donor_codes),
    )


def _delete_previous_demo(builder, usernames):
    """Delete what an earlier run wrote: exactly the planned lines and donors and
    the demo users' requests. Refuses (DemoConflict) when other data points at them."""
    line_names = [ln.name for ln in builder.lines]
    lines, donors = _demo_scope(line_names, [d.code for d in builder.donors])
    if not lines.exists() and not donors.exists():
        return 0
    User = get_user_model()
    demo_users = User.objects.filter(username__in=usernames)
    foreign = RequestedLine.objects.filter(line__in=lines).exclude(request__requester__in=demo_users)
    if foreign.exists():
        raise DemoConflict(
            f"{foreign.values('request').distinct().count()} request(s) by non-demo users ask for demo "
            "lines; remove them before rebuilding the demo"
        )
    foreign_lines = CellLine.objects.filter(donor__in=donors).exclude(name__in=line_names)
    if foreign_lines.exists():
        raise DemoConflict(
            f"{foreign_lines.count()} line(s) not made by seed_demo belong to demo donors "
            f"(e.g. {foreign_lines.first().name}); remove them before rebuilding the demo"
        )
    unindex(LINE, lines.values_list("pk", flat=True))
    unindex(DONOR, donors.values_list("pk", flat=True))
    delete_demo_results(demo_users)
    requests = DistributionRequest.objects.filter(requester__in=demo_users)
    delete_demo_stock(lines, requests)
    Shipment.objects.filter(request__in=requests).delete()
    Shipment.objects.filter(line__in=lines).delete()
    RequestedLine.objects.filter(request__in=requests).delete()
    requests.delete()
    count = lines.count()
    # Subclones first: a parent is PROTECTed by its subclones.
    QCRecord.objects.filter(line__in=lines).delete()
    Variant.objects.filter(line__in=lines).delete()
    lines.filter(parental_line__isnull=False).delete()
    lines.delete()
    Variant.objects.filter(donor__in=donors).delete()
    Consent.objects.filter(donor__in=donors).delete()
    donors.delete()
    return count


def _bulk(objs, model):
    return bulk_create_with_history(objs, model, batch_size=500, default_change_reason=CHANGE_REASON)


def build_builder(seed=SEED):
    builder = Plan(seed)
    builder.build_institutions()
    builder.build_donors()
    builder.ensure_atxn2_intermediates()
    builder.build_variants()
    builder.build_consents()
    withdrawn = builder.withdraw_consents()
    builder.build_lines()
    builder.build_isogenic_sets()
    builder.assign_status_and_qc(withdrawn)
    return builder


@transaction.atomic
def seed_demo(seed=SEED, *, alongside_other_lines=False):
    """Write the demo catalog (replacing an earlier run's). Returns a DemoSummary.

    Invented lines must not slip into a real catalog: when lines other than the
    demo's exist, it refuses (DemoConflict) unless `alongside_other_lines`."""
    builder = build_builder(seed)
    if not alongside_other_lines:
        others = CellLine.objects.exclude(name__in=[ln.name for ln in builder.lines])
        if others.exists():
            raise DemoConflict(
                f"the catalog holds {others.count()} line(s) that are not the demo's (e.g. {others.first().name}); "
                "the invented demo would mix with them. Use --force to add it anyway"
            )
    summary = DemoSummary()
    usernames = [*DEMO_USERS, *REQUESTER_USERNAMES]
    try:
        # Replacing the demo's own rows: recording thousands of deletions one
        # INSERT at a time would take most of the run, and the history of a
        # demo being rebuilt tells nobody anything. New rows still get theirs.
        with override_settings(SIMPLE_HISTORY_ENABLED=False):
            summary.replaced_lines = _delete_previous_demo(builder, usernames)
    except (ProtectedError, RestrictedError) as exc:
        raise DemoConflict(f"other data refers to demo objects: {exc.args[0]}") from exc

    for institution in builder.institutions.values():
        saved, _ = Institution.objects.update_or_create(
            code=institution.code,
            defaults={
                "name": institution.name,
                "country": institution.country,
                "city": institution.city,
            },
        )
        institution.pk = saved.pk
    users, summary.credentials = write_users()

    # Instances refer to each other before they have ids; bulk_create picks up a
    # related object's id once that object is saved, so saving in dependency
    # order is all it takes.
    _bulk(builder.donors, Donor)
    _bulk(builder.consents, Consent)
    through = Consent.codes.through
    through.objects.bulk_create(
        [
            through(consent_id=c.pk, duoterm_id=curie)
            for c in builder.consents
            for curie in builder.consent_codes[c.donor.code]
        ]
    )
    parents = [ln for ln in builder.lines if ln.parental_line is None]
    subclones = [ln for ln in builder.lines if ln.parental_line is not None]
    _bulk(parents, CellLine)
    _bulk(subclones, CellLine)
    _bulk(builder.donor_variants + builder.line_variants, Variant)
    records = []
    for line in builder.lines:
        for record in builder.qc[line.name]:
            record.line = line
            records.append(record)
    _bulk(records, QCRecord)

    summary.requests = DemoRequests(random.Random(seed + 1), users, builder).build()
    make_withdrawals(random.Random(seed + 2), users["curator"], builder)
    # Derived before the stock, which stocks C9orf72 patients, sporadic patients and controls in turn.
    refresh_affection_status([d.pk for d in builder.donors])
    # The inventory comes after the requests: they predate it, as in a bank that starts tracking vials.
    summary.stock = seed_stock(random.Random(seed + 3), users["curator"], builder.lines)
    summary.datasets = make_results(random.Random(seed + 3), users)
    # Its own sequence: the clinical course came later than the plan it is drawn around.
    summary.visits = make_courses(random.Random(seed + 5), builder.donors, ANCHOR)

    # What other writers keep current by explicit calls: affection status (above), search text, the STR index.
    refresh_search_text(CellLine.objects.filter(pk__in=[ln.pk for ln in builder.lines]))
    reindex_many(LINE, builder.lines)
    reindex_many(DONOR, builder.donors)

    summary.institutions = len(builder.institutions)
    summary.donors = len(builder.donors)
    summary.lines = len(builder.lines)
    summary.qc_records = len(records)
    summary.variants = len(builder.donor_variants) + len(builder.line_variants)
    register_demo_peers()
    return summary


def demo_digest():
    """A digest of the demo catalog's content as stored (no ids, no timestamps of writing):
    two builds that write the same catalog give the same digest."""
    h = hashlib.sha256()
    for row in Donor.objects.order_by("code").values_list(
        "code",
        "sex",
        "age_at_sampling",
        "ancestry",
        "disease",
        "family_history",
        "onset_site",
        "age_at_onset",
        "alsfrs_r",
        "c9orf72_repeats",
        "atxn2_repeats",
    ):
        h.update(repr(row).encode())
    for row in CellLine.objects.order_by("name").values_list(
        "name",
        "donor__code",
        "parental_line__name",
        "modification_type",
        "status",
        "availability",
        "qc_status",
        "reprogramming_method",
        "source_cell_type",
        "released_at",
    ):
        h.update(repr(row).encode())
    for row in Variant.objects.order_by("gene", "hgvs", "donor__code", "line__name").values_list(
        "gene",
        "hgvs",
        "protein",
        "zygosity",
        "donor__code",
        "line__name",
    ):
        h.update(repr(row).encode())
    for row in Visit.objects.order_by("donor__code", "months_from_onset").values_list(
        "donor__code", "months_from_onset", "items", "kings_stage", "fvc_percent_predicted", "medications"
    ):
        h.update(repr(row).encode())
    for row in ClinicalEvent.objects.order_by("donor__code", "kind").values_list(
        "donor__code", "kind", "months_from_onset"
    ):
        h.update(repr(row).encode())
    for row in QCRecord.objects.order_by("line__name", "test", "tested_on", "result").values_list(
        "line__name",
        "test",
        "result",
        "tested_on",
    ):
        h.update(repr(row).encode())
    return h.hexdigest()
