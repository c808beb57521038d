"""The demo bank's stock: a storage tree (one site, two LN2 tanks, racks, 9×9 boxes),
lots of released lines with a passing panel (a master bank lot, and for some a
depositor expansion), vials in the boxes, and one lot recalled after a failed
mycoplasma re-test. Written through stock.actions, as a curator would; vials in bulk.
Demo locations have codes starting `demo-`; a rebuild deletes them with the demo lines."""

import datetime
import itertools
import random

from distribution.actions.recall import recall_lot
from distribution.eligibility import evaluate_lines
from distribution.models import ReservedVial
from donors import duo
from donors.disclosure import genetic_data_public_q
from donors.models import Donor, Variant
from stock import actions
from stock.availability import refresh_line_stock
from stock.models import Location, Lot, StockEvent, Vial, VialEvent

STOCKED_LINES = 120
EXAMPLE_AGE_TOLERANCE = 10  # the cohort builder page's example (cohorts/views.py)
BOX_SIZE = 9
RECALL_REASON = "Mycoplasma PCR positive on the 6-month re-test of the retained vial (lab ref. MYC-2026-031)."


def delete_demo_stock(lines, requests):
    """What an earlier run's stock left: reservations of the demo requests, the demo
    lines' lots, vials and events, and the demo locations (children first)."""
    ReservedVial.objects.filter(item__request__in=requests).delete()
    ReservedVial.objects.filter(vial__lot__line__in=lines).delete()
    VialEvent.objects.filter(vial__lot__line__in=lines).delete()
    Vial.objects.filter(lot__line__in=lines).delete()
    StockEvent.objects.filter(lot__line__in=lines).delete()
    StockEvent.objects.filter(line__in=lines).delete()
    Lot.objects.filter(line__in=lines).delete()
    for kind in ("box", "rack", "freezer", "site"):
        demo = Location.objects.filter(kind=kind, code__startswith="demo-")
        StockEvent.objects.filter(
            action="location_created", details__location__in=list(demo.values_list("code", flat=True))
        ).delete()
        demo.delete()


def _boxes(curator):
    site = actions.create_location(curator, kind="site", name="Demo bank, Bonn", code="demo-bonn")
    boxes = []
    for t in (1, 2):
        tank = actions.create_location(curator, kind="freezer", name=f"LN2 tank {t}", code=f"demo-t{t}", parent=site)
        for r in (1, 2):
            rack = actions.create_location(curator, kind="rack", name=f"Rack {r}", code=f"demo-t{t}-r{r}", parent=tank)
            for b in (1, 2, 3, 4, 5, 6):
                boxes.append(
                    actions.create_location(
                        curator,
                        kind="box",
                        name=f"Box {b}",
                        code=f"demo-t{t}-r{r}-b{b}",
                        parent=rack,
                        rows=BOX_SIZE,
                        columns=BOX_SIZE,
                    )
                )
    return boxes


class _Wells:
    """Hands out free wells box by box."""

    def __init__(self, boxes):
        self.wells = [(box, r, c) for box in boxes for r in range(1, BOX_SIZE + 1) for c in range(1, BOX_SIZE + 1)]
        self.next = 0

    def take(self):
        well = self.wells[self.next]
        self.next += 1
        return well


def _groups(lines: list) -> list[list]:
    """The usable lines in four groups: C9orf72 patients, sporadic patients, unaffected
    donors and the rest (each in the given order)."""
    # C9orf72 carriers whose genetic data the consent shows (the catalog's gene filter
    # finds only those for a researcher).
    c9 = Variant.objects.filter(gene="C9orf72")
    c9_donors = set(c9.filter(genetic_data_public_q("donor__")).values_list("donor_id", flat=True))
    c9_lines = set(c9.values_list("line_id", flat=True))

    # As stored (the derived affection status is written in bulk, not on these instances).
    donors = {
        pk: (status, history)
        for pk, status, history in Donor.objects.filter(pk__in={ln.donor_id for ln in lines}).values_list(
            "pk", "affection_status", "family_history"
        )
    }

    def group(line) -> int:
        status, history = donors.get(line.donor_id, ("", ""))
        if status == "affected" and (line.donor_id in c9_donors or line.pk in c9_lines):
            return 0
        if status == "affected" and history == "sporadic":
            return 1
        return 2 if status == "unaffected" else 3

    groups: list[list] = [[], [], [], []]
    for line in lines:
        groups[group(line)].append(line)
    return groups


def _matched_controls(groups: list[list], stocked: list) -> list:
    """For each stocked C9orf72 patient's line, a control line to stock beside it when
    none is stocked yet: an unaffected donor of the same sex, aged within
    EXAMPLE_AGE_TOLERANCE years at sampling, whose consent allows health/medical
    research (the cohort builder page's example: HMB, matched on sex and age)."""
    taken = {ln.pk for ln in stocked}
    controls = groups[2]
    verdicts = evaluate_lines(controls, duo.Purpose(frozenset({duo.HMB})))
    usable = [ln for ln, verdict in zip(controls, verdicts, strict=True) if verdict.decision == duo.APPROVE]
    # Each case its own control: one already stocked where one matches, else a new one.
    spare = [ln for ln in usable if ln.pk in taken]
    unstocked = [ln for ln in usable if ln.pk not in taken]
    added: list = []
    for case in (ln for ln in groups[0] if ln.pk in taken):
        for pool, stock_it in ((spare, False), (unstocked, True)):
            match = next((c for c in pool if _matches(case, c)), None)
            if match is not None:
                pool.remove(match)
                if stock_it:
                    added.append(match)
                break
    return added


def _matches(case, control) -> bool:
    a, b = case.donor, control.donor
    return (
        a.sex == b.sex
        and a.age_at_sampling is not None
        and b.age_at_sampling is not None
        and abs(a.age_at_sampling - b.age_at_sampling) <= EXAMPLE_AGE_TOLERANCE
    )


def seed_stock(rng: random.Random, curator, lines) -> dict:
    """Stock for STOCKED_LINES released lines whose panel passed, taken in turn from
    C9orf72 patients, sporadic patients, unaffected donors and the rest (each by name),
    plus a matched control for each stocked C9orf72 patient that has none, so that the
    cohort builder's example (C9orf72 / sporadic / matched controls) can be filled from
    what is in stock."""
    boxes = _boxes(curator)
    wells = _Wells(boxes)
    usable = sorted(
        (ln for ln in lines if ln.status == "released" and ln.qc_status == "passed" and ln.availability == "available"),
        key=lambda ln: ln.name,
    )
    groups = _groups(usable)
    candidates = [ln for turn in itertools.zip_longest(*groups) for ln in turn if ln is not None][:STOCKED_LINES]
    candidates += _matched_controls(groups, candidates)
    vials, lots = [], []
    for n, line in enumerate(candidates):
        records = list(line.qc_records.all())
        kinds = [("MCB01", "bank")] + ([("P001", "depositor")] if n % 3 == 0 else [])
        for k, (code, lot_type) in enumerate(kinds):
            frozen = datetime.date(2025, 1, 15) + datetime.timedelta(days=7 * n + 90 * k)
            lot = actions.declare_lot(
                line,
                code,
                by=curator,
                lot_type=lot_type,
                passage=(line.passage_at_banking or 12) + 3 * k,
                frozen_on=frozen,
                medium=line.culture_medium or "mTeSR1",
                matrix=line.culture_matrix or "Matrigel",
                cryo_medium="CryoStor CS10",
                vials_made=rng.randint(20, 60),
                freezing_method="controlled-rate freezer, -1 °C/min",
                thaw_recommendation="Thaw at 37 °C; plate on Matrigel in medium with 10 µM Y-27632 for 24 h.",
            )
            actions.link_qc_records(lot, records, by=curator)
            actions.release_lot(lot, by=curator, reason="Panel passed")
            lots.append(lot)
            for v in range(rng.randint(4, 12)):
                box, row, column = wells.take()
                vials.append(
                    Vial(
                        identifier=f"DEMO-{line.name}-{code}-{v + 1:03d}",
                        name=f"{line.name} {code} vial {v + 1:02d}",
                        lot=lot,
                        location=box,
                        row=row,
                        column=column,
                    )
                )
    Vial.objects.bulk_create(vials, batch_size=500)
    refresh_line_stock([lot.line_id for lot in lots])
    recalled = lots[1] if len(lots) > 1 else None
    if recalled is not None:
        recall_lot(recalled, by=curator, reason=RECALL_REASON, notify=False)
    return {
        "lots": len(lots),
        "vials": len(vials),
        "boxes": len(boxes),
        "recalled": str(recalled) if recalled else None,
    }
