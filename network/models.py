"""The banks this one federates with. A peer is another PRISM or any Beacon v2; no
peer's records are ever stored here, only how to reach it."""

from django.db import models


class PeerKind(models.TextChoices):
    PRISM = "prism", "PRISM Catalog"
    BEACON = "beacon", "Other Beacon v2"


class Peer(models.Model):
    name = models.CharField(max_length=200, unique=True)
    base_url = models.URLField(
        max_length=300,
        unique=True,
        help_text="Where the bank is reached, e.g. https://catalog.bank.example (its Beacon is under /api/beacon/v2/).",
    )
    kind = models.CharField(max_length=10, choices=PeerKind.choices, default=PeerKind.PRISM)
    # A token the peer granted this bank (sent as "Authorization: Token …"); blank: anonymous.
    token = models.CharField(max_length=200, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def root(self) -> str:
        return self.base_url.rstrip("/")

    @property
    def beacon_url(self) -> str:
        return f"{self.root}/api/beacon/v2"
