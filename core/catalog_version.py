"""The catalog version: one number that every write to what the catalog shows bumps,
so every cache of catalog figures (facet counts, home figures, the curator
dashboard) is keyed on it and a change shows at once, on every web process.

The number lives in one database row (`CatalogVersion`, read by primary key once per
cached page: one cheap query), so every process sees a bump the moment it commits.
Writers do not call this module by hand: the catalog's models take `CatalogModel`
(save and delete bump) and a queryset built on `CatalogQuerySet` (update,
bulk_create, bulk_update and delete bump), so actions, importers, approval and the
admin all reach it through the ORM. A writer that bypasses the ORM (raw SQL, COPY)
calls `bump()` itself.

The bump runs after commit (`transaction.on_commit`), once per transaction however
many rows it wrote, so a long approval holds no lock on the row and other writers
never wait for it. Until then the writing connection itself must not read or fill
the shared entries (they would be keyed on the old number with its own uncommitted
rows): `current()` gives it a key of its own, changed by every write, so it sees its
own writes at once and nobody else ever shares its entries.

Why a reader can never cache old figures under a new number: it reads the number
before the figures, and the number changes only after the data committed, so figures
read after seeing the new number include the change.
"""

import hashlib
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.models import F

ROW = 1


class CatalogVersion(models.Model):
    """One row: the catalog version (see core/catalog_version.py)."""

    value = models.PositiveBigIntegerField(default=0)

    class Meta:
        app_label = "prism"
        verbose_name = "catalog version"

    def __str__(self):
        return f"catalog version {self.value}"


class _PendingBump:
    """The bump queued for after commit on one connection; `writes` counts the writes
    since, so the connection's own key changes with each."""

    def __init__(self, using):
        self.using = using
        self.token = uuid.uuid4().hex
        self.writes = 0

    def __call__(self):
        _increment(self.using)


def _increment(using):
    if not CatalogVersion.objects.using(using).filter(pk=ROW).update(value=F("value") + 1):
        CatalogVersion.objects.using(using).get_or_create(pk=ROW)
        CatalogVersion.objects.using(using).filter(pk=ROW).update(value=F("value") + 1)


def _pending(connection):
    """The bump this connection's open transaction queued, or None. Read from Django's
    own on-commit list, so a rolled-back transaction or savepoint (which drops its
    callbacks) leaves nothing pending."""
    for entry in connection.run_on_commit:
        if isinstance(entry[1], _PendingBump):
            return entry[1]
    return None


def bump(using=None):
    """Mark the catalog changed: the version goes up when the current transaction
    commits (at once outside a transaction)."""
    using = using or DEFAULT_DB_ALIAS
    connection = connections[using]
    if not connection.in_atomic_block:
        _increment(using)
        return
    pending = _pending(connection)
    if pending is None:
        pending = _PendingBump(using)
        transaction.on_commit(pending, using=using)
    pending.writes += 1


def has_uncommitted_writes(using=None):
    """Whether this connection's open transaction wrote to the catalog: its reads then
    see rows no other connection sees yet, so nothing built from the committed catalog
    (a per-process index, a shared cache entry) may answer for it."""
    connection = connections[using or DEFAULT_DB_ALIAS]
    return connection.in_atomic_block and _pending(connection) is not None


def current(using=None):
    """The version to key caches on: a string, the committed number, or while this
    connection has uncommitted catalog writes a key no other connection shares."""
    using = using or DEFAULT_DB_ALIAS
    connection = connections[using]
    value = CatalogVersion.objects.using(using).filter(pk=ROW).values_list("value", flat=True).first() or 0
    pending = _pending(connection) if connection.in_atomic_block else None
    if pending is not None:
        return f"{value}+{pending.token}.{pending.writes}"
    return str(value)


def cached(name, parts, compute):
    """`compute()`, kept in the shared cache (settings.CACHES, CACHE_URL) under `name`,
    `parts` (who is looking, the filters) and the catalog version, for
    CATALOG_CACHE_SECONDS: a write changes the version, so no entry outlives it."""
    raw = repr((parts, current()))
    key = f"{name}:{hashlib.sha256(raw.encode()).hexdigest()}"
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, settings.CATALOG_CACHE_SECONDS)
    return value


class CatalogQuerySet(models.QuerySet):
    """A queryset whose bulk writes bump the catalog version."""

    def update(self, **kwargs):
        rows = super().update(**kwargs)
        if rows:
            bump(self.db)
        return rows

    update.alters_data = True

    def bulk_create(self, objs, *args, **kwargs):
        created = super().bulk_create(objs, *args, **kwargs)
        if created:
            bump(self.db)
        return created

    bulk_create.alters_data = True

    # bulk_update needs no override: it writes through update() above.

    def delete(self):
        deleted = super().delete()
        if deleted[0]:
            bump(self.db)
        return deleted

    delete.alters_data = True


class CatalogModel:
    """Mixin for a model the catalog shows: saving or deleting a row bumps the version."""

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        bump(kwargs.get("using") or self._state.db)

    def delete(self, *args, **kwargs):
        using = kwargs.get("using") or self._state.db
        deleted = super().delete(*args, **kwargs)
        bump(using)
        return deleted
