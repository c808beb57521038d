"""Bulk writes at approval scale: rows and their history with COPY on PostgreSQL.

`create_with_history(model, objs, user=..., reason=...)` writes unsaved model
instances and one simple_history "+" record per row, as simple_history's
`bulk_create_with_history` does, but on PostgreSQL it reserves the primary keys
from the table's sequence, streams the rows with COPY, a chunk at a time so that the
server inserts one while the next is encoded (the ORM's INSERT of tens of
thousands of rows costs most of an approval) and has the server copy the stored rows
into the history table (INSERT … SELECT, nothing sent or parsed twice). Elsewhere (SQLite) it is
`bulk_create_with_history`. Either way the objects come back with their pk set.

`copy_rows(model, rows)` is the same COPY for plain dicts {attname: value}
(no model instances, no history), returning the reserved pks.

`update_columns(model, pks, {attname: values})` sets columns of many rows in one
statement: `UPDATE … FROM unnest(…)` on PostgreSQL, executemany elsewhere.

Writes to a catalog model bump the catalog version (core.catalog_version), as the
ORM's would. Both run inside the caller's transaction (`transaction.atomic`), so a failure
half-way leaves nothing written. No signals are sent, as with bulk_create.
"""

import contextlib
import datetime
import decimal
import json
import uuid

import orjson
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, get_history_manager_for_model

from core import catalog_version

_ESCAPE = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
NULL = "\\N"


def _json_text(value, encoder=None):
    if encoder is None:
        try:
            return orjson.dumps(value).decode()
        except TypeError:  # non-str keys, Decimal …: what Django's json.dumps accepts
            pass
    return json.dumps(value, cls=encoder)


def _text(value):
    """One value in COPY's text format (already a database value)."""
    if value is None:
        return NULL
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return value.translate(_ESCAPE)
    if isinstance(value, (int, float, decimal.Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    return str(value).translate(_ESCAPE)


def _str_text(value):
    if type(value) is str:
        return value.translate(_ESCAPE) if ("\\" in value or "\t" in value or "\n" in value or "\r" in value) else value
    return _text(value)


def _int_text(value):
    return str(value) if type(value) is int else _text(value)


def _encoder(field):
    """A function turning one Python value of `field` into COPY text."""
    kind = field.get_internal_type()
    if kind in {"CharField", "TextField", "EmailField", "SlugField", "URLField", "FileField"}:
        return _str_text  # a FieldFile is written as its name (str)
    if field.is_relation or kind.endswith("AutoField") or kind.endswith("IntegerField"):
        return _int_text
    if field.get_internal_type() == "JSONField":
        encoder = field.encoder

        def json_value(value):
            if value is None:
                return NULL
            text = _json_text(value, encoder)  # control characters come out escaped: only "\\" to double
            return text.replace("\\", "\\\\") if "\\" in text else text

        return json_value
    if field.get_internal_type() == "DateTimeField":
        seen = {}  # the rows of one write share a few timestamps (now)

        def datetime_value(value):
            try:
                return seen[value]
            except (KeyError, TypeError):
                pass
            text = value
            if isinstance(text, datetime.datetime) and timezone.is_naive(text):
                text = timezone.make_aware(text, datetime.UTC)
            text = _text(text)
            if len(seen) < 1000:
                with contextlib.suppress(TypeError):
                    seen[value] = text
            return text

        return datetime_value
    if field.is_relation or field.get_internal_type() in {
        "AutoField",
        "BigAutoField",
        "IntegerField",
        "BigIntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "SmallIntegerField",
        "CharField",
        "TextField",
        "BooleanField",
        "DateField",
        "FloatField",
        "DecimalField",
        "EmailField",
        "SlugField",
        "URLField",
        "UUIDField",
    }:
        return _text
    return lambda value: _text(field.get_db_prep_save(value, connection))


def _bump(model):
    """COPY and raw UPDATE bypass CatalogQuerySet: a catalog model's write bumps the
    catalog version here (core.catalog_version), as the ORM's would."""
    if issubclass(model, catalog_version.CatalogModel):
        catalog_version.bump()


class _Chunks:
    """A file for copy_expert that hands over one chunk of COPY text per read: the
    server inserts a chunk while the next one is encoded."""

    def __init__(self, chunks):
        self._chunks = iter(chunks)

    def read(self, size=-1):
        return next(self._chunks, "")


def _copy(table, columns, chunks):
    """COPY the texts `chunks` (each whole rows, "\n"-terminated) into `table`."""
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor, connection.wrap_database_errors:  # psycopg2 → Django errors
        cursor.cursor.copy_expert(f"COPY {connection.ops.quote_name(table)} ({names}) FROM STDIN", _Chunks(chunks))


def _reserve_pks(model, count):
    table, column = model._meta.db_table, model._meta.pk.column
    with connection.cursor() as cursor:
        # The sequence is looked up once (OFFSET 0 keeps the planner from folding the
        # subquery in and calling pg_get_serial_sequence per row: 470 -> 60 ms for 70,000).
        cursor.execute(
            "SELECT array_agg(nextval(s.seq)) FROM "
            "(SELECT pg_get_serial_sequence(%s, %s)::regclass AS seq OFFSET 0) s, generate_series(1, %s)",
            [connection.ops.quote_name(table), column, count],
        )
        return sorted(cursor.fetchone()[0])


def _concrete(model):
    return [f for f in model._meta.concrete_fields]


_SPECIAL = ("\\", "\t", "\n", "\r")


def _column(encode, values):
    """One column's COPY texts: `encode` per value, or one pass over the whole column
    where every value has the same plain type (ints, strings without a character to
    escape, nulls), which is most columns of an approval's rows."""
    kinds = set(map(type, values))
    if kinds == {type(None)}:
        return [NULL] * len(values)
    if encode is _int_text and kinds <= {int, type(None)}:
        return list(map(str, values)) if kinds == {int} else [NULL if v is None else str(v) for v in values]
    if encode is _text and kinds <= {datetime.date, type(None)}:  # a DateField
        return [NULL if v is None else v.isoformat() for v in values]
    if encode is _str_text and kinds == {str}:
        joined = "".join(values)
        return values if not any(c in joined for c in _SPECIAL) else [v.translate(_ESCAPE) for v in values]
    return list(map(encode, values))


def _encoded(model, rows):
    """Each row {attname: value} as its tuple of COPY texts, in concrete-field order
    (a missing attname takes the field's default). Encoded a column at a time."""
    fields = _concrete(model)
    first, count = rows[0], len(rows)
    columns = []
    for field in fields:
        attname = field.attname
        values = [row[attname] for row in rows] if attname in first else [field.get_default()] * count
        columns.append(_column(_encoder(field), values))
    return fields, list(zip(*columns, strict=True))


COPY_CHUNK = 2000  # rows encoded and sent at a time


def _encoded_chunks(model, rows):
    """The rows as COPY text, COPY_CHUNK rows at a time (encoded lazily, as COPY reads)."""
    for start in range(0, len(rows), COPY_CHUNK):
        _fields, encoded = _encoded(model, rows[start : start + COPY_CHUNK])
        yield "".join(["\t".join(values) + "\n" for values in encoded])


def copy_rows(model, rows, *, reserve_pks=True, history=None):
    """COPY plain rows {attname: database-ready Python value} into `model`'s table
    (PostgreSQL only); missing attnames take the field's default. Returns the pks
    (reserved from the sequence, or as given in the rows). With history={"user": …,
    "reason": …, "date": …} each row also gets its simple_history "+" record, copied
    by the server from the row as stored."""
    if not rows:
        return []
    pk = model._meta.pk
    if reserve_pks:
        pks = _reserve_pks(model, len(rows))
        for row, value in zip(rows, pks, strict=True):
            row[pk.attname] = value
    else:
        pks = [row[pk.attname] for row in rows]
    _bump(model)
    _copy(model._meta.db_table, [f.column for f in _concrete(model)], _encoded_chunks(model, rows))
    if history is not None:
        _copy_history(model, pks, **history)
    return pks


def _copy_history(model, pks, *, user=None, reason=None, date=None, history_type="+"):
    """The "+" history records of the rows `pks` just written, made by the server from
    the rows as stored (INSERT … SELECT): the values are not sent and parsed twice."""
    history = get_history_manager_for_model(model).model
    by_attname = {f.attname: f for f in _concrete(history)}
    tracked = [f.attname for f in history.tracked_fields]
    extra = {
        "history_date": date or timezone.now(),
        "history_change_reason": reason,
        "history_type": history_type,
        "history_user_id": getattr(user, "pk", None),
    }
    quote = connection.ops.quote_name
    pk_column = quote(model._meta.pk.column)
    columns = [by_attname[a].column for a in [*tracked, *extra]]
    picks = [quote(model._meta.get_field(a).column) for a in tracked] + ["%s"] * len(extra)
    if hasattr(history, "history_relation"):  # the history row points at its object
        columns.append(by_attname["history_relation_id"].column)
        picks.append(pk_column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(history._meta.db_table)} ({', '.join(quote(c) for c in columns)}) "  # noqa: S608
            f"SELECT {', '.join(picks)} FROM {quote(model._meta.db_table)} "
            f"WHERE {pk_column} = ANY(%s) ORDER BY {pk_column}",
            [*extra.values(), list(pks)],
        )


def insert_with_history(model, rows, *, user=None, reason=None, date=None, batch_size=2000):
    """Insert plain rows {attname: value} of `model` with one history record each,
    without building model instances on PostgreSQL. Returns the new pks in order."""
    rows = list(rows)
    if not rows:
        return []
    if connection.vendor != "postgresql":
        objs = create_with_history(
            model, [model(**row) for row in rows], user=user, reason=reason, date=date, batch_size=batch_size
        )
        return [obj.pk for obj in objs]
    with transaction.atomic(savepoint=False):
        return copy_rows(model, rows, history={"user": user, "reason": reason, "date": date})


def create_with_history(model, objs, *, user=None, reason=None, batch_size=2000, date=None) -> list[Model]:
    """Insert unsaved `objs` of `model` and one history record each ("+", by `user`,
    change reason `reason`, dated `date` or now). Returns the objects, pks set."""
    objs = list(objs)
    if not objs:
        return objs
    if connection.vendor != "postgresql":
        return bulk_create_with_history(
            objs,
            model,
            batch_size=batch_size,
            default_user=user,
            default_change_reason=reason,
            default_date=date,
        )
    with transaction.atomic(savepoint=False):
        fields = _concrete(model)
        pk = model._meta.pk
        # pre_save only where it does something (auto_now / auto_now_add), as bulk_create sets them.
        stamped = [f for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
        plain = [f.attname for f in fields if f not in stamped and f is not pk]
        pks = _reserve_pks(model, len(objs))
        rows = []
        for obj, value in zip(objs, pks, strict=True):
            obj._prepare_related_fields_for_save(operation_name="bulk_create")
            setattr(obj, pk.attname, value)
            values = obj.__dict__
            row = {a: values[a] for a in plain}
            row[pk.attname] = value
            for f in stamped:
                row[f.attname] = f.pre_save(obj, add=True)
            obj._state.adding, obj._state.db = False, connection.alias
            rows.append(row)
        copy_rows(model, rows, reserve_pks=False, history={"user": user, "reason": reason, "date": date})
    return objs


def update_columns(model, pks, columns):
    """Set columns {attname: [value per pk]} of the rows `pks` of `model` in one statement."""
    pks = list(pks)
    if not pks:
        return
    fields = {name: model._meta.get_field(name) for name in columns}
    table = connection.ops.quote_name(model._meta.db_table)
    pk_column = connection.ops.quote_name(model._meta.pk.column)
    names = list(columns)
    _bump(model)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            types = [model._meta.pk.db_type(connection).replace("serial", "integer")]
            types += [fields[n].db_type(connection) for n in names]
            unnest = ", ".join(f"%s::{t}[]" for t in types)
            aliases = ["pk", *(f"c{i}" for i in range(len(names)))]
            sets = ", ".join(f"{connection.ops.quote_name(fields[n].column)} = v.c{i}" for i, n in enumerate(names))
            cursor.execute(
                f"UPDATE {table} SET {sets} FROM unnest({unnest}) AS v({', '.join(aliases)}) "  # noqa: S608
                f"WHERE {table}.{pk_column} = v.pk",
                [pks, *(list(columns[n]) for n in names)],
            )
        else:
            sets = ", ".join(f"{connection.ops.quote_name(fields[n].column)} = %s" for n in names)
            cursor.executemany(
                f"UPDATE {table} SET {sets} WHERE {pk_column} = %s",  # noqa: S608
                [[*(columns[n][i] for n in names), pk] for i, pk in enumerate(pks)],
            )
