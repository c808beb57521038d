"""Lots, vials, the storage location tree and the log of what curators did with stock.

A lot is a banked expansion of a line (by the bank or the depositor) with its own
passage, culture conditions and QC records; it is released only when its QC panel
passes (lines.qc.panel_verdict, through stock.actions.release_lot). A vial belongs
to one lot, has a stable identifier (a BioSamples accession where given, else
minted) and, while it is in the freezer, a position in a box of the location tree.
The QC records of a lot are the line's records linked here (Lot.qc_records), so the
lines app knows nothing of lots.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.catalog_version import CatalogModel, CatalogQuerySet
from core.roles import is_curator
from lines.models import CellLine


class LocationKind(models.TextChoices):
    SITE = "site", "Site"
    FREEZER = "freezer", "Freezer"
    RACK = "rack", "Rack"
    BOX = "box", "Box"


# What each kind may hold: a site holds freezers, a freezer racks, a rack boxes.
CHILD_KIND = {
    LocationKind.SITE: LocationKind.FREEZER,
    LocationKind.FREEZER: LocationKind.RACK,
    LocationKind.RACK: LocationKind.BOX,
}


class Location(models.Model):
    """A node of the storage tree: site → freezer → rack → box; vials sit in boxes."""

    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    kind = models.CharField(max_length=8, choices=LocationKind.choices)
    name = models.CharField(max_length=60)
    code = models.SlugField(max_length=60, unique=True, help_text="Short unique code, used in vial files and labels.")
    rows = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Boxes only: rows (A, B, …).")
    columns = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Boxes only: columns (1, 2, …).")

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=LocationKind.values), name="location_kind_valid"),
            models.UniqueConstraint(fields=["parent", "name"], name="location_name_unique_in_parent"),
            models.CheckConstraint(
                condition=~Q(kind=LocationKind.BOX) | (Q(rows__gte=1) & Q(columns__gte=1)),
                name="location_box_has_grid",
            ),
            models.CheckConstraint(
                condition=Q(kind=LocationKind.SITE, parent__isnull=True) | Q(parent__isnull=False),
                name="location_only_sites_at_root",
            ),
        ]

    def __str__(self):
        return self.code

    def path(self):
        parts, node = [], self
        while node is not None:
            parts.append(node.name)
            node = node.parent
        return " › ".join(reversed(parts))


class LotType(models.TextChoices):
    BANK = "bank", "Bank expansion"
    DEPOSITOR = "depositor", "Depositor expansion"


class LotStatus(models.TextChoices):
    PENDING = "pending", "Awaiting QC release"
    RELEASED = "released", "Released"
    QUARANTINED = "quarantined", "Quarantined"
    RECALLED = "recalled", "Recalled"


class LotQuerySet(CatalogQuerySet):
    def visible_to(self, user):
        """The lots of the lines the user may see (CellLine.objects.visible_to)."""
        return self.filter(line__in=CellLine.objects.visible_to(user))


class Lot(CatalogModel, models.Model):
    line = models.ForeignKey(CellLine, on_delete=models.PROTECT, related_name="lots")
    code = models.CharField(max_length=40, help_text="The lot's name within its line, e.g. P001.")
    accession = models.CharField("BioSamples accession", max_length=30, null=True, blank=True, unique=True)
    lot_type = models.CharField(max_length=10, choices=LotType.choices, default=LotType.BANK)
    passage = models.PositiveSmallIntegerField(null=True, blank=True)
    frozen_on = models.DateField(null=True, blank=True)
    medium = models.CharField(max_length=100, blank=True)
    matrix = models.CharField(max_length=100, blank=True)
    cryo_medium = models.CharField(max_length=100, blank=True)
    vials_made = models.PositiveIntegerField(null=True, blank=True)
    freezing_method = models.CharField(max_length=100, blank=True)
    thaw_recommendation = models.TextField(blank=True)
    status = models.CharField(max_length=12, choices=LotStatus.choices, default=LotStatus.PENDING)
    status_reason = models.TextField(blank=True)
    qc_records = models.ManyToManyField("lines.QCRecord", blank=True, related_name="lots")
    qc_status = models.CharField(max_length=10, default="incomplete", help_text="Kept by stock.actions.refresh_lot_qc.")
    coa_file = models.FileField(upload_to="coa/%Y/", blank=True, help_text="An uploaded certificate of analysis.")
    coa_sha256 = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = LotQuerySet.as_manager()

    class Meta:
        ordering = ["line", "frozen_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["line", "code"], name="lot_code_unique_in_line"),
            models.CheckConstraint(condition=Q(status__in=LotStatus.values), name="lot_status_valid"),
            models.CheckConstraint(condition=Q(lot_type__in=LotType.values), name="lot_type_valid"),
            models.CheckConstraint(
                condition=~Q(status__in=[LotStatus.QUARANTINED, LotStatus.RECALLED]) | ~Q(status_reason=""),
                name="lot_recall_needs_reason",
            ),
        ]

    def __str__(self):
        return f"{self.line.name} lot {self.code}"


class VialStatus(models.TextChoices):
    IN_STOCK = "in_stock", "In stock"
    RESERVED = "reserved", "Reserved"
    SHIPPED = "shipped", "Shipped"
    CONSUMED = "consumed", "Consumed"
    DESTROYED = "destroyed", "Destroyed"
    QUARANTINED = "quarantined", "Quarantined"


# A vial in one of these is still in its box; the others have left it.
STORED_STATUSES = (VialStatus.IN_STOCK, VialStatus.RESERVED, VialStatus.QUARANTINED)


def mint_vial_identifier():
    """A stable identifier for a vial that came without an accession."""
    return f"PRV-{uuid.uuid4().hex[:12].upper()}"


class VialQuerySet(CatalogQuerySet):
    def visible_to(self, user):
        """Vials (and so storage positions) are the curators'; others see counts only."""
        return self if is_curator(user) else self.none()


class Vial(CatalogModel, models.Model):
    # Every index is paid for by each of the 100,000 rows a vial file writes (bench/stock.py):
    # the lot and location have none of their own (vial_lot_status_id and
    # vial_position_free lead with them), the receiving event none at all (no reader
    # looks vials up by it), and the identifier's uniqueness is a constraint, which on
    # PostgreSQL spares the LIKE index a unique CharField gets.
    identifier = models.CharField(max_length=40, default=mint_vial_identifier)
    name = models.CharField(max_length=100, blank=True)
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="vials", db_index=False)
    status = models.CharField(max_length=12, choices=VialStatus.choices, default=VialStatus.IN_STOCK)
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.PROTECT, related_name="vials", db_index=False
    )
    row = models.PositiveSmallIntegerField(null=True, blank=True)
    column = models.PositiveSmallIntegerField(null=True, blank=True)
    received = models.ForeignKey(
        "StockEvent", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    updated_at = models.DateTimeField(default=timezone.now)

    objects = VialQuerySet.as_manager()

    class Meta:
        ordering = ["lot", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=VialStatus.values), name="vial_status_valid"),
            models.UniqueConstraint(fields=["identifier"], name="vial_identifier_unique"),
            # One vial per well of a box.
            models.UniqueConstraint(
                fields=["location", "row", "column"], condition=Q(location__isnull=False), name="vial_position_free"
            ),
            models.CheckConstraint(
                condition=Q(location__isnull=True) | (Q(row__isnull=False) & Q(column__isnull=False)),
                name="vial_position_complete",
            ),
        ]
        indexes = [
            # A reservation reads a lot's vials in stock in id order, and counts them by
            # an index-only scan (stock.actions._claim_in_one_statement).
            models.Index(fields=["lot", "status", "id"], name="vial_lot_status_id"),
            models.Index(fields=["status"]),
        ]

    def __str__(self):
        return self.identifier

    @property
    def position(self):
        """A1-style well of the box, or '' when not stored."""
        if self.location_id is None or self.row is None:
            return ""
        return f"{row_letter(self.row)}{self.column}"


def row_letter(row):
    """1 → A, 26 → Z, 27 → AA."""
    letters = ""
    while row:
        row, rest = divmod(row - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


class StockEvent(models.Model):
    """Everything a curator does with stock: receiving a file, moving, destroying,
    releasing, recalling; with who, when and why. Availability changes are these."""

    action = models.CharField(max_length=20)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lot = models.ForeignKey(Lot, null=True, blank=True, on_delete=models.PROTECT, related_name="events")
    line = models.ForeignKey(CellLine, null=True, blank=True, on_delete=models.PROTECT, related_name="stock_events")
    reason = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.action} at {self.at:%Y-%m-%d %H:%M}"


class VialEvent(models.Model):
    """One status change of one vial (its history after receipt)."""

    vial = models.ForeignKey(Vial, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12)
    event = models.ForeignKey(StockEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="vial_events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.vial_id}: {self.from_status} → {self.to_status}"
