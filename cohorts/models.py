"""Saved cohorts: a definition (arms, purpose, matching, seed), the lines it gave,
and the balance and exclusions as they were when it was saved.

A cohort has a stable public id (COH-xxxxxxxx) and a version: saving again under
the same id adds version n+1, so an older screen can always name exactly the
lines it used. Who sees which cohort is cohorts.selectors.visible_cohorts."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class MemberRole(models.TextChoices):
    CASE = "case", "Case"
    CONTROL = "control", "Matched control"
    ISOGENIC = "isogenic", "Isogenic partner"


class Cohort(models.Model):
    public_id = models.CharField(max_length=12, db_index=True, help_text="Stable across versions: COH-xxxxxxxx.")
    version = models.PositiveIntegerField(default=1)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="cohorts")
    shared = models.BooleanField(default=False, help_text="Listed to every signed-in user (and to the Beacon).")
    definition = models.JSONField(help_text="Arms, purpose, matching and seed, as built.")
    seed = models.BigIntegerField()
    balance = models.JSONField(default=list, blank=True)
    exclusions = models.JSONField(default=dict, blank=True)
    request = models.ForeignKey(
        "distribution.DistributionRequest", null=True, blank=True, on_delete=models.SET_NULL, related_name="cohorts"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "public_id", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["public_id", "version"], name="cohort_id_version_unique"),
            models.CheckConstraint(condition=Q(version__gte=1), name="cohort_version_positive"),
        ]

    def __str__(self):
        return f"{self.public_id} v{self.version} {self.name}"

    @property
    def label(self) -> str:
        return f"{self.public_id}.v{self.version}"


class CohortMember(models.Model):
    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="members")
    line = models.ForeignKey("lines.CellLine", on_delete=models.PROTECT, related_name="cohort_memberships")
    arm = models.CharField(max_length=60)
    role = models.CharField(max_length=10, choices=MemberRole.choices)
    matched_to = models.CharField(max_length=40, blank=True, help_text="The case line a control was matched to.")
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["cohort_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["cohort", "line"], name="cohort_member_once"),
            models.CheckConstraint(condition=Q(role__in=MemberRole.values), name="cohort_member_role_valid"),
        ]

    def __str__(self):
        return f"{self.cohort}: {self.line_id} ({self.arm})"
