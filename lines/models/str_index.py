"""The rows the STR similarity search reads (kept by lines.str.store)."""

from django.db import models
from django.db.models import Q


class StrSourceKind(models.TextChoices):
    LINE = "line", "Cell line"
    DONOR = "donor", "Donor"
    REFERENCE = "reference", "Cellosaurus reference"


class StrIndexEntry(models.Model):
    """One STR profile the catalog holds (a line's, a donor's or a Cellosaurus
    reference's), copied where the similarity search reads it.

    Kept by lines.str.store.reindex() from the code that writes profiles (no
    signals). Each write stamps the entry with a new generation from StrIndexState;
    a search process compares generations to pick up changes without reloading
    everything. A deleted or emptied profile stays as a `removed` row so that
    processes holding an index in memory learn about it.
    """

    kind = models.CharField(max_length=10, choices=StrSourceKind.choices)
    object_id = models.PositiveBigIntegerField()
    name = models.CharField(max_length=200)
    accession = models.CharField(max_length=20, blank=True)
    profile = models.JSONField(default=dict)
    conflicts = models.JSONField(default=dict, blank=True)
    mixture = models.BooleanField(default=False)
    removed = models.BooleanField(default=False)
    generation = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "object_id"], name="str_index_one_entry_per_object"),
            models.CheckConstraint(condition=Q(kind__in=StrSourceKind.values), name="str_index_kind_valid"),
        ]
        indexes = [models.Index(fields=["generation"])]
        verbose_name = "STR index entry"
        verbose_name_plural = "STR index entries"

    def __str__(self):
        return f"{self.kind} {self.name}"


class StrIndexState(models.Model):
    """A single row: the generation of the last write to the STR index.

    Writers bump it with an UPDATE inside their transaction; the row lock makes
    generations commit in order, so a reader that has seen generation G has seen
    every entry stamped ≤ G."""

    generation = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = "STR index state"

    def __str__(self):
        return f"STR index at generation {self.generation}"
