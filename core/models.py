"""Institutions, people, and the controlled vocabularies every app checks against.

Vocabularies live in tables, not code, so a bank can load newer official files
(`manage.py load_vocabularies`) without a release. A small built-in set is
written by a data migration so that a fresh catalog validates out of the box.
"""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

from core.catalog_version import CatalogModel, CatalogQuerySet, CatalogVersion

__all__ = ["CatalogVersion"]  # registered with the core app from here

INSTITUTION_CODE_RE = r"^[A-Z]{2,6}$"


class Institution(CatalogModel, models.Model):
    name = models.CharField(max_length=200)
    country = models.CharField(max_length=100, help_text="Country name, in English.")
    code = models.CharField(
        "hPSCreg institution code",
        max_length=6,
        unique=True,
        validators=[RegexValidator(INSTITUTION_CODE_RE, "2 to 6 capital letters.")],
        help_text="Registered once per institution with hPSCreg; the prefix of every line name.",
    )
    city = models.CharField(max_length=100, blank=True)
    website = models.URLField(blank=True)

    objects = CatalogQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=models.Q(code__regex=INSTITUTION_CODE_RE), name="institution_code_format"),
        ]

    def __str__(self):
        return f"{self.code} · {self.name}"


class OrganisationType(models.TextChoices):
    ACADEMIC = "academic", "Academic"
    NON_PROFIT = "non_profit", "Non-profit"
    COMMERCIAL = "commercial", "Commercial"


class Profile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    institution = models.ForeignKey(
        Institution, null=True, blank=True, on_delete=models.PROTECT, related_name="members"
    )
    organisation_type = models.CharField(
        max_length=20, choices=OrganisationType.choices, default=OrganisationType.ACADEMIC
    )

    def __str__(self):
        return f"{self.user} ({self.institution.code if self.institution else 'no institution'})"


class DuoTerm(models.Model):
    """A GA4GH Data Use Ontology term, keyed by its CURIE (never the shorthand)."""

    class Branch(models.TextChoices):
        PERMISSION = "permission", "Data use permission"
        MODIFIER = "modifier", "Data use modifier"
        OTHER = "other", "Other"

    curie = models.CharField(max_length=20, primary_key=True, validators=[RegexValidator(r"^DUO:\d{7}$")])
    label = models.CharField(max_length=200)
    shorthand = models.CharField(max_length=20, blank=True)
    definition = models.TextField(blank=True)
    branch = models.CharField(max_length=20, choices=Branch.choices, default=Branch.OTHER)
    obsolete = models.BooleanField(default=False)

    class Meta:
        ordering = ["curie"]
        verbose_name = "DUO term"

    def __str__(self):
        return f"{self.curie} {self.shorthand or self.label}"


class DiseaseTerm(models.Model):
    """A MONDO disease term. `ancestors` holds every ancestor id so that a filter
    on a disease finds its subtypes with one indexed lookup, without walking the graph."""

    curie = models.CharField(max_length=20, primary_key=True, validators=[RegexValidator(r"^MONDO:\d{7}$")])
    label = models.CharField(max_length=300)
    synonyms = models.JSONField(default=list, blank=True)
    parents = models.ManyToManyField("self", symmetrical=False, related_name="children", blank=True)
    ancestors = models.JSONField(default=list, blank=True)
    obsolete = models.BooleanField(default=False)

    class Meta:
        ordering = ["curie"]

    def __str__(self):
        return f"{self.curie} {self.label}"


class Gene(models.Model):
    """An HGNC gene: approved symbol plus previous symbols and aliases."""

    hgnc_id = models.CharField(max_length=20, primary_key=True, validators=[RegexValidator(r"^HGNC:\d+$")])
    symbol = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=300, blank=True)
    previous_symbols = models.JSONField(default=list, blank=True)
    alias_symbols = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["symbol"]

    def __str__(self):
        return self.symbol


class CellType(models.Model):
    """A Cell Ontology term (source cell types)."""

    curie = models.CharField(max_length=20, primary_key=True, validators=[RegexValidator(r"^CL:\d{7}$")])
    label = models.CharField(max_length=300)

    class Meta:
        ordering = ["label"]

    def __str__(self):
        return f"{self.label} ({self.curie})"


class PhenotypeTerm(models.Model):
    """A Human Phenotype Ontology term (a donor's phenotypic features, protocol 3)."""

    curie = models.CharField(max_length=20, primary_key=True, validators=[RegexValidator(r"^HP:\d{7}$")])
    label = models.CharField(max_length=300)
    obsolete = models.BooleanField(default=False)

    class Meta:
        ordering = ["curie"]

    def __str__(self):
        return f"{self.curie} {self.label}"


class WorkerHeartbeat(models.Model):
    """When a Celery worker last ran `core.tasks.record_heartbeat`, per label.

    Beat queues the task every minute, so an operator can tell from the admin
    whether the queue is being worked at all; the worker tests use it to prove
    that a real worker, not eager execution, ran a task against the test database.
    """

    label = models.CharField(max_length=100, unique=True)
    worker = models.CharField(max_length=200, help_text="Celery node name of the worker that ran it.")
    seen_at = models.DateTimeField()

    class Meta:
        ordering = ["label"]

    def __str__(self):
        return f"{self.label}: {self.worker} at {self.seen_at:%Y-%m-%d %H:%M:%S}"


class SiteAddress(models.Model):
    """The address the site was last reached at (one row), for links in e-mails when
    SITE_URL is not set: a worker sending mail has no request to ask. Kept by
    core.site_address.SiteAddressMiddleware, written only when it changes."""

    address = models.URLField(max_length=300)
    seen_at = models.DateTimeField()

    class Meta:
        verbose_name = "site address"

    def __str__(self):
        return self.address


class IdempotencyKey(models.Model):
    """A key a client sent with a creating request (a form's hidden field, the API's
    `Idempotency-Key` header) and what that request made: the same key again from
    the same person gives back the same object instead of a second one
    (core/double_submits.py). Three parallel posts of the basket made two requests."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=40, help_text="What was made, e.g. distribution.request.")
    key = models.CharField(max_length=100)
    object_id = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind", "key"], name="idempotency_key_once")]

    def __str__(self):
        return f"{self.kind} {self.key} → {self.object_id}"
