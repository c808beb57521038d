"""Every write to stock: locations, lots (declare, link QC, release, quarantine,
recall), vials (claim for a request, release, ship, move, destroy).

Each runs in one transaction, records a StockEvent (who, when, why) and one
VialEvent per vial whose status changed, and refreshes the stock block of the
lines it touched (stock.availability.refresh_line_stock). Vial status changes are
conditional updates (`filter(pk=…, status=old).update(status=new)`): a count of 0
means someone else changed the vial first, so two curators never take one vial.
Only curators act on stock; the request workflow calls these through
distribution/actions/stock.py.
"""

import datetime
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from core.prepared import execute_prepared
from core.roles import is_curator
from lines.models import CellLine, QCRecord
from lines.qc import PASSED, summarise_qc_status
from stock.availability import (
    ExpectedStock,
    in_stock_vials_q,
    refresh_line_stock,
    stock_after_taking,
    stock_counts,
    store_line_stock,
)
from stock.models import (
    CHILD_KIND,
    Location,
    LocationKind,
    Lot,
    LotStatus,
    StockEvent,
    Vial,
    VialEvent,
    VialStatus,
)

LOT_FIELDS = (
    "accession",
    "lot_type",
    "passage",
    "frozen_on",
    "medium",
    "matrix",
    "cryo_medium",
    "vials_made",
    "freezing_method",
    "thaw_recommendation",
)


class StockError(Exception):
    """A refused stock action: `problems` names what and where (HTTP 400, or 403/409)."""

    status_code = 400

    def __init__(self, message: str, problems: Any = None, status_code: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems or {}
        self.status_code = status_code


def check_curator(by: User | None) -> None:
    if not is_curator(by):
        raise StockError("Only curators may change stock.", status_code=403)


def _event(
    action: str, by: User | None, *, lot: Lot | None = None, line_id: int | None = None, **kw: Any
) -> StockEvent:
    return StockEvent.objects.create(
        action=action, actor=by, lot=lot, line_id=line_id or (lot.line_id if lot else None), **kw
    )


# --- locations ----------------------------------------------------------------------


def create_location(
    by: User,
    *,
    kind: str,
    name: str,
    code: str,
    parent: Location | None = None,
    rows: int | None = None,
    columns: int | None = None,
) -> Location:
    """A site (no parent), or a freezer, rack or box inside the kind that holds it."""
    check_curator(by)
    expected = LocationKind.SITE if parent is None else CHILD_KIND.get(LocationKind(parent.kind))
    if kind != expected:
        where = "at the top" if parent is None else f"inside a {parent.kind}"
        raise StockError(f"A {kind} cannot go {where}; expected a {expected or 'nothing'}.", {"kind": kind})
    if kind == LocationKind.BOX and not (rows and columns and 1 <= rows <= 26 and 1 <= columns <= 26):
        raise StockError("A box needs rows and columns (1 to 26 each).", {"rows": rows, "columns": columns})
    try:
        with transaction.atomic():
            location = Location.objects.create(
                parent=parent, kind=kind, name=name.strip(), code=code.strip(), rows=rows, columns=columns
            )
            _event("location_created", by, details={"location": location.code, "kind": kind})
    except IntegrityError as error:
        raise StockError(
            f"A location with code {code!r} or name {name!r} there already exists.", {"code": code}
        ) from error
    return location


# --- lots -----------------------------------------------------------------------------


def declare_lot(line: CellLine, code: str, *, by: User | None, check: bool = True, **fields: Any) -> Lot:
    """A new lot of `line`, awaiting QC release. `fields`: any of LOT_FIELDS.
    `check=False` for a depositor's declaration the curator's approval makes."""
    if check:
        check_curator(by)
    unknown = set(fields) - set(LOT_FIELDS)
    if unknown:
        raise StockError("Unknown lot fields: " + ", ".join(sorted(unknown)), {f: "unknown" for f in unknown})
    code = (code or "").strip()
    if not code:
        raise StockError("A lot needs a code (e.g. P001).", {"code": "required"})
    try:
        with transaction.atomic():
            lot = Lot.objects.create(line=line, code=code, **fields)
            _event("lot_declared", by, lot=lot, details={"lot": code})
    except IntegrityError as error:
        raise StockError(f"{line.name} already has a lot {code}, or the accession is taken.", {"code": code}) from error
    return lot


def refresh_lot_qc(lot: Lot) -> str:
    """The lot's panel verdict from its own QC records (the one rule: lines.qc)."""
    lot.qc_status = summarise_qc_status(lot.line, list(lot.qc_records.all()))
    Lot.objects.filter(pk=lot.pk).update(qc_status=lot.qc_status)
    return lot.qc_status


def link_qc_records(lot: Lot, records: Iterable[QCRecord], *, by: User | None, check: bool = True) -> str:
    """Say these QC records (of the lot's line) were made on this lot; returns the verdict."""
    if check:
        check_curator(by)
    records = list(records)
    foreign = [r.pk for r in records if r.line_id != lot.line_id]
    if foreign:
        raise StockError("QC records of another line cannot belong to this lot.", {"qc_records": foreign})
    with transaction.atomic():
        lot.qc_records.add(*records)
        return refresh_lot_qc(lot)


def release_lot(lot: Lot, *, by: User, reason: str = "") -> Lot:
    """Release a lot for distribution: only when its QC panel passes."""
    check_curator(by)
    with transaction.atomic():
        locked = Lot.objects.select_for_update().select_related("line").get(pk=lot.pk)
        verdict = refresh_lot_qc(locked)
        if verdict != PASSED:
            raise StockError(
                f"Lot {locked.code} of {locked.line.name} cannot be released: its QC panel is {verdict}.",
                {"qc_status": verdict},
                status_code=409,
            )
        if locked.status not in (LotStatus.PENDING, LotStatus.QUARANTINED):
            raise StockError(f"Lot {locked.code} is {locked.get_status_display().lower()}.", status_code=409)
        previous = locked.status
        locked.status, locked.status_reason = LotStatus.RELEASED, reason
        locked.save(update_fields=["status", "status_reason"])
        event = _event("lot_released", by, lot=locked, reason=reason, details={"from": previous})
        if previous == LotStatus.QUARANTINED:
            ids = list(locked.vials.filter(status=VialStatus.QUARANTINED).values_list("pk", flat=True))
            change_vials(ids, VialStatus.IN_STOCK, by=by, reason=reason or "Lot released", event=event)
        refresh_line_stock([locked.line_id])
    lot.refresh_from_db()
    return lot


def withhold_lot(lot: Lot, status: str, *, by: User, reason: str) -> list[int]:
    """Quarantine or recall a lot, with a mandatory reason: its vials still in the
    bank (in stock or reserved) are quarantined. Returns their ids. The request side
    (holds, recipients) is distribution.actions.recall.recall_lot's."""
    check_curator(by)
    reason = (reason or "").strip()
    if status not in (LotStatus.QUARANTINED, LotStatus.RECALLED):
        raise StockError("A lot is withheld by quarantine or recall.", {"status": status})
    if not reason:
        raise StockError("Give the reason (e.g. a failed mycoplasma re-test).", {"reason": "required"})
    with transaction.atomic():
        locked = Lot.objects.select_for_update().get(pk=lot.pk)
        if locked.status == LotStatus.RECALLED:
            raise StockError(f"Lot {locked.code} is already recalled.", status_code=409)
        previous = locked.status
        locked.status, locked.status_reason = status, reason
        locked.save(update_fields=["status", "status_reason"])
        event = _event(f"lot_{status}", by, lot=locked, reason=reason, details={"from": previous})
        ids = list(
            locked.vials.filter(status__in=[VialStatus.IN_STOCK, VialStatus.RESERVED]).values_list("pk", flat=True)
        )
        change_vials(ids, VialStatus.QUARANTINED, by=by, reason=reason, event=event)
        refresh_line_stock([locked.line_id])
    lot.refresh_from_db()
    return ids


# --- vials ------------------------------------------------------------------------------


def change_vials(
    vial_ids: Sequence[int],
    to_status: str,
    *,
    by: User | None,
    reason: str = "",
    event: StockEvent | None = None,
    from_statuses: Sequence[str] | None = None,
    at: datetime.datetime | None = None,
) -> list[int]:
    """Move vials to `to_status` by conditional update; the ids that moved (a vial
    already elsewhere than `from_statuses` is left alone). Vials that leave the
    bank leave their box position too."""
    now = at or timezone.now()
    moved = []
    leaving = to_status in (VialStatus.SHIPPED, VialStatus.CONSUMED, VialStatus.DESTROYED)
    with transaction.atomic():
        rows = Vial.objects.filter(pk__in=list(vial_ids)).values_list("pk", "status")
        events = []
        for pk, status in rows:
            if status == to_status or (from_statuses is not None and status not in from_statuses):
                continue
            update: dict[str, Any] = {"status": to_status, "updated_at": now}
            if leaving:
                update.update(location=None, row=None, column=None)
            if Vial.objects.filter(pk=pk, status=status).update(**update):
                moved.append(pk)
                events.append(
                    VialEvent(
                        vial_id=pk,
                        from_status=status,
                        to_status=to_status,
                        event=event,
                        actor=by,
                        reason=reason,
                        at=now,
                    )
                )
        VialEvent.objects.bulk_create(events)
    return moved


@dataclass(frozen=True)
class VialLink:
    """A row the caller wants written for each claimed vial, in the same statement as
    the claim: into `table` (the request side's reservations), its `vial_id` column
    plus the constant `values`. Stock knows nothing else of that table."""

    table: str
    values: dict[str, Any] = field(default_factory=dict)


def claim_vials(
    line: CellLine, count: int, *, by: User | None, lot: Lot | None = None, link: VialLink | None = None
) -> list[tuple[int, str]]:
    """Reserve `count` vials of `line` in stock: of `lot` if given, else oldest
    released lot first; returns their (pk, identifier) and writes one `link` row per
    vial. Two concurrent claims never take the same vial; raises StockError (nothing
    reserved; `problems["has_lots"]` says whether the bank holds any lot of the line)
    when too few. The caller that needs the line's counts right under concurrency
    holds the line's row lock (distribution.actions.stock locks the request's lines).

    `line` carries its status and availability (and, to spare a catalog-version bump
    when its availability does not change, its vials_in_stock and stock_summary).
    On PostgreSQL one prepared statement picks, reserves, logs and links the vials,
    counts the stock left and, when those counts are the ones expected
    (stock.availability.stock_after_taking), stores the line's block (the bench's
    reservation path: `python -m bench --only stock`); elsewhere a conditional update
    per vial inside a savepoint, then a count, then the block."""
    now = timezone.now()
    if connection.vendor == "postgresql":
        expected = stock_after_taking(line, count)
        claimed, left, stored = _claim_in_one_statement(line, count, lot, now, by, link, expected)
        if stored and expected is not None and len(claimed) == count:  # it stored the block given
            line.vials_in_stock, line.stock_summary = expected.vials_in_stock, expected.stock_summary
            return claimed
    else:
        with transaction.atomic():
            claimed = _claim_vial_by_vial(line, count, lot, now, by)
            if len(claimed) == count and link is not None:
                _write_links(link, [pk for pk, _identifier in claimed])
        left = _stock_left(line, lot)
    if len(claimed) < count:
        where = f"lot {lot.code} of {line.name}" if lot else line.name
        in_stock = left.lot_vials if lot else left.vials
        raise StockError(
            f"Only {in_stock} vial(s) of {where} are in stock; {count} are needed.",
            {"line": line.name, "in_stock": in_stock, "requested": count, "has_lots": left.has_lots},
            status_code=409,
        )
    store_line_stock(line, vials=left.vials, lots=left.lots, has_lots=left.has_lots)
    return claimed


@dataclass(frozen=True)
class StockLeft:
    vials: int
    lots: int
    has_lots: bool
    lot_vials: int  # of the lot asked for, when one was


def _stock_left(line: CellLine, lot: Lot | None) -> StockLeft:
    vials, lots, has_lots = stock_counts([line.pk])[line.pk]
    lot_vials = Vial.objects.filter(in_stock_vials_q(), lot=lot).count() if lot is not None else 0
    return StockLeft(vials, lots, has_lots, lot_vials)


def _write_links(link: VialLink, vial_ids: Sequence[int]) -> None:
    columns = ["vial_id", *link.values]
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    marks = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {connection.ops.quote_name(link.table)} ({quoted}) VALUES ({marks})"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.executemany(sql, [(pk, *link.values.values()) for pk in vial_ids])


def _claim_vial_by_vial(
    line: CellLine, count: int, lot: Lot | None, now: datetime.datetime, by: User | None
) -> list[tuple[int, str]]:
    """Any database: try the oldest candidates one conditional update at a time (a vial
    another approval reserved first no longer matches `status = in_stock`). All or
    nothing: too few, and the caller's savepoint undoes the partial claim."""
    candidates = Vial.objects.filter(in_stock_vials_q(), lot__line=line)
    if lot is not None:
        candidates = candidates.filter(lot=lot)
    candidates = candidates.order_by(F("lot__frozen_on").asc(nulls_last=True), "lot_id", "id")
    claimed: list[tuple[int, str]] = []
    tried: set[int] = set()
    while len(claimed) < count:
        batch = list(candidates.exclude(pk__in=tried).values_list("pk", "identifier")[: count - len(claimed) + 4])
        if not batch:
            transaction.set_rollback(True)
            return claimed
        for pk, identifier in batch:
            tried.add(pk)
            if Vial.objects.filter(pk=pk, status=VialStatus.IN_STOCK).update(
                status=VialStatus.RESERVED, updated_at=now
            ):
                claimed.append((pk, identifier))
                if len(claimed) == count:
                    break
    VialEvent.objects.bulk_create(
        VialEvent(vial_id=pk, from_status=VialStatus.IN_STOCK, to_status=VialStatus.RESERVED, actor=by, at=now)
        for pk, _identifier in claimed
    )
    return claimed


def _claim_in_one_statement(  # noqa: PLR0913 -- one statement's parameters
    line: CellLine,
    count: int,
    lot: Lot | None,
    now: datetime.datetime,
    by: User | None,
    link: VialLink | None,
    expected: ExpectedStock | None,
) -> tuple[list[tuple[int, str]], StockLeft, bool]:
    """PostgreSQL: pick, reserve, log and link the vials and count the stock left, in
    one statement (one round trip; two when another transaction holds one of the first
    vials in order), all or nothing. The picked rows are locked (FOR UPDATE SKIP
    LOCKED): a concurrent claim skips them instead of waiting, and a row it reserved
    meanwhile no longer matches `status = in_stock`. When fewer than `count`
    could be picked nothing is updated, so no savepoint is needed to undo a partial
    claim. The counts read the statement's snapshot (before its own update) less what
    it moved; they are right when the caller holds the line's lock (no other claim on
    the line can be in flight), and an index-only scan of vial (lot, status, id)."""
    q = connection.ops.quote_name
    vial, lot_table, event = q(Vial._meta.db_table), q(Lot._meta.db_table), q(VialEvent._meta.db_table)
    only_lot = "AND l.id = %(lot)s" if lot is not None else ""
    params: dict[str, Any] = {
        "line": line.pk,
        "in_stock": VialStatus.IN_STOCK,
        "released": LotStatus.RELEASED,
        "lot": lot.pk if lot is not None else None,
        "count": count,
        "reserved": VialStatus.RESERVED,
        "now": now,
        "actor": by.pk if by is not None else None,
    }
    linked = ""
    if link is not None:
        names = ", ".join(q(c) for c in ["vial_id", *link.values])
        values = "".join(f", %(link_{n})s" for n in range(len(link.values)))
        params.update((f"link_{n}", value) for n, value in enumerate(link.values.values()))
        linked = f", linked AS (INSERT INTO {q(link.table)} ({names}) SELECT id{values} FROM moved)"  # noqa: S608
    stored = "SELECT 0 AS n"
    if expected is not None:
        # The line's block, composed in Python (stock.availability) for the counts the
        # claim should leave, is stored only if the counts read are those.
        params.update(
            new_vials=expected.vials,
            new_lots=expected.lots,
            new_in_stock=expected.vials_in_stock,
            new_block=json.dumps(expected.stock_summary),
        )
        stored = f"""
            UPDATE {q(CellLine._meta.db_table)} SET vials_in_stock = %(new_in_stock)s,
                stock_summary = %(new_block)s::jsonb
            WHERE id = %(line)s AND (SELECT vials = %(new_vials)s AND lots = %(new_lots)s AND has_lots
                FROM left_over)
            RETURNING 1 AS n"""  # noqa: S608 -- table name from the model
    # The first vials in order, found through the index of vial (lot, status, id), a
    # lot at a time: a few index entries read, however many vials a lot holds. A vial
    # among them another transaction holds (or reserved since this statement's
    # snapshot) is not taken; if that leaves too few, the statement moves nothing and
    # runs again with the picker below, which skips locked vials and takes the next.
    first_in_order = f"""
            SELECT v.id FROM {vial} v
            WHERE v.status = %(in_stock)s AND v.id IN (
                SELECT c.id FROM {lot_table} l CROSS JOIN LATERAL (
                    SELECT v.id FROM {vial} v WHERE v.lot_id = l.id AND v.status = %(in_stock)s
                    ORDER BY v.id LIMIT %(count)s
                ) c
                WHERE l.line_id = %(line)s AND l.status = %(released)s {only_lot}
                ORDER BY l.frozen_on NULLS LAST, l.id, c.id
                LIMIT %(count)s
            )
            FOR UPDATE SKIP LOCKED"""  # noqa: S608 -- table names from the models
    skipping_locked = f"""
            SELECT v.id FROM {vial} v JOIN {lot_table} l ON l.id = v.lot_id
            WHERE l.line_id = %(line)s AND v.status = %(in_stock)s AND l.status = %(released)s {only_lot}
            ORDER BY l.frozen_on NULLS LAST, l.id, v.id
            LIMIT %(count)s
            FOR UPDATE OF v SKIP LOCKED"""  # noqa: S608 -- table names from the models
    sql = f"""
        WITH picked AS ({{picker}}
        ), moved AS (
            UPDATE {vial} SET status = %(reserved)s, updated_at = %(now)s
            WHERE id IN (SELECT id FROM picked) AND (SELECT count(*) FROM picked) = %(count)s
            RETURNING id, identifier, lot_id
        ), logged AS (
            INSERT INTO {event} (vial_id, from_status, to_status, actor_id, reason, at)
            SELECT id, %(in_stock)s, %(reserved)s, %(actor)s, '', %(now)s FROM moved
        ){linked}, stocked AS MATERIALIZED (  -- counted once, read three times below
            SELECT l.id AS lot_id, CASE WHEN l.status = %(released)s THEN (
                SELECT count(*) FROM {vial} v WHERE v.lot_id = l.id AND v.status = %(in_stock)s
            ) ELSE 0 END AS n
            FROM {lot_table} l WHERE l.line_id = %(line)s
        ), left_over AS (
            SELECT count(*) > 0 AS has_lots,
                coalesce(sum(s.n - coalesce(m.k, 0)), 0) AS vials,
                count(*) FILTER (WHERE s.n - coalesce(m.k, 0) > 0) AS lots,
                coalesce(sum(s.n - coalesce(m.k, 0)) FILTER (WHERE s.lot_id = %(lot)s), 0) AS lot_vials
            FROM stocked s LEFT JOIN (SELECT lot_id, count(*) AS k FROM moved GROUP BY lot_id) m
                ON m.lot_id = s.lot_id
        ), stored AS ({stored}
        )
        SELECT m.id, m.identifier, o.vials, o.lots, o.has_lots, o.lot_vials,
            EXISTS (SELECT 1 FROM stored WHERE n = 1)
        FROM left_over o LEFT JOIN moved m ON true ORDER BY m.id
    """  # noqa: S608 -- table names from the models, values as parameters
    with connection.cursor() as cursor:
        execute_prepared(cursor, sql.replace("{picker}", first_in_order), params)
        rows = cursor.fetchall()
        in_stock = rows[0][5] if lot is not None else rows[0][2]
        if rows[0][0] is None and in_stock >= count:  # some of the first were taken: look further
            execute_prepared(cursor, sql.replace("{picker}", skipping_locked), params)
            rows = cursor.fetchall()
    first = rows[0]
    left = StockLeft(int(first[2]), int(first[3]), bool(first[4]), int(first[5]))
    return [(row[0], row[1]) for row in rows if row[0] is not None], left, bool(first[6])


def lines_of(vial_ids: Iterable[int]) -> list[int]:
    return list(Vial.objects.filter(pk__in=list(vial_ids)).values_list("lot__line_id", flat=True).distinct())


def destroy_vials(vial_ids: Sequence[int], *, by: User, reason: str) -> list[int]:
    """Destroy (or record as consumed) vials still in the bank, with a reason."""
    check_curator(by)
    reason = (reason or "").strip()
    if not reason:
        raise StockError("Say why the vials are destroyed.", {"reason": "required"})
    with transaction.atomic():
        event = _event("vials_destroyed", by, reason=reason, details={"vials": len(vial_ids)})
        moved = change_vials(vial_ids, VialStatus.DESTROYED, by=by, reason=reason, event=event)
        refresh_line_stock(lines_of(moved))
    return moved


def move_vial(vial: Vial, box: Location, row: int, column: int, *, by: User, reason: str = "") -> Vial:
    """Put a stored vial in another well of a box."""
    check_curator(by)
    if box.kind != LocationKind.BOX:
        raise StockError(f"{box.code} is a {box.kind}; vials go in boxes.", {"location": box.code})
    if not (1 <= row <= (box.rows or 0) and 1 <= column <= (box.columns or 0)):
        raise StockError(f"{box.code} has {box.rows} rows and {box.columns} columns.", {"position": [row, column]})
    try:
        with transaction.atomic():
            locked = Vial.objects.select_for_update().get(pk=vial.pk)
            if locked.status not in (VialStatus.IN_STOCK, VialStatus.RESERVED, VialStatus.QUARANTINED):
                raise StockError(
                    f"Vial {locked.identifier} is {locked.status}; it is not in the bank.", status_code=409
                )
            before = f"{locked.location.code}:{locked.position}" if locked.location is not None else ""
            locked.location, locked.row, locked.column = box, row, column
            locked.save(update_fields=["location", "row", "column"])
            _event(
                "vial_moved",
                by,
                lot=locked.lot,
                reason=reason,
                details={"vial": locked.identifier, "from": before, "to": f"{box.code}:{locked.position}"},
            )
    except IntegrityError as error:
        raise StockError(f"Position {row},{column} of {box.code} is taken.", {"position": [row, column]}) from error
    return locked
