"""Bulk writes at approval scale: rows and their history with COPY on PostgreSQL.

`create_with_history(model, objs, user=..., reason=...)` writes unsaved model
instances and one simple_history "+" record per row, as simple_history's
`bulk_create_with_history` does, but on PostgreSQL it reserves the primary keys
from the table's sequence and streams both tables with COPY (the ORM's INSERT of
tens of thousands of rows costs most of an approval). Elsewhere (SQLite) it is
`bulk_create_with_history`. Either way the objects come back with their pk set.

`copy_rows(model, rows)` is the same COPY for plain dicts {attname: value}
(no model instances, no history), returning the reserved pks.

`update_columns(model, pks, {attname: values})` sets columns of many rows in one
statement: `UPDATE … FROM unnest(…)` on PostgreSQL, executemany elsewhere.

Both run inside the caller's transaction (`transaction.atomic`), so a failure
half-way leaves nothing written. No signals are sent, as with bulk_create.
"""

import datetime
import decimal
import io
import json
import uuid

import orjson
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, get_history_manager_for_model

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


def _encoder(field):
    """A function turning one Python value of `field` into COPY text."""
    if field.get_internal_type() == "JSONField":
        encoder = field.encoder

        def json_value(value):
            return NULL if value is None else _json_text(value, encoder).translate(_ESCAPE)

        return json_value
    if field.get_internal_type() == "DateTimeField":

        def datetime_value(value):
            if isinstance(value, datetime.datetime) and timezone.is_naive(value):
                value = timezone.make_aware(value, datetime.UTC)
            return _text(value)

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


def _copy(table, columns, lines):
    buffer = io.StringIO()
    buffer.writelines(lines)
    buffer.seek(0)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor, connection.wrap_database_errors:  # psycopg2 → Django errors
        cursor.cursor.copy_expert(f"COPY {connection.ops.quote_name(table)} ({names}) FROM STDIN", buffer)


def _reserve_pks(model, count):
    table, column = model._meta.db_table, model._meta.pk.column
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [connection.ops.quote_name(table), column, count],
        )
        return [row[0] for row in cursor.fetchall()]


def _concrete(model):
    return [f for f in model._meta.concrete_fields]


def copy_rows(model, rows, *, reserve_pks=True):
    """COPY plain rows {attname: database-ready Python value} into `model`'s table
    (PostgreSQL only); missing attnames take the field's default. Returns the pks
    (reserved from the sequence, or as given in the rows)."""
    if not rows:
        return []
    fields = _concrete(model)
    pk = model._meta.pk
    if reserve_pks:
        pks = _reserve_pks(model, len(rows))
        for row, value in zip(rows, pks, strict=True):
            row[pk.attname] = value
    else:
        pks = [row[pk.attname] for row in rows]
    defaults = {f.attname: f.get_default() for f in fields if f.attname not in rows[0]}
    encoders = [(f.attname, _encoder(f)) for f in fields]
    lines = []
    for row in rows:
        values = []
        for attname, encode in encoders:
            value = row[attname] if attname in row else defaults[attname]
            values.append(encode(value))
        lines.append("\t".join(values) + "\n")
    _copy(model._meta.db_table, [f.column for f in fields], lines)
    return pks


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
        pks = _reserve_pks(model, len(objs))
        rows = []
        for obj, value in zip(objs, pks, strict=True):
            obj._prepare_related_fields_for_save(operation_name="bulk_create")
            setattr(obj, pk.attname, value)
            row = {}
            for f in fields:
                # pre_save: auto_now / auto_now_add dates, as bulk_create sets them.
                row[f.attname] = f.pre_save(obj, add=True) if f is not pk else value
            obj._state.adding, obj._state.db = False, connection.alias
            rows.append(row)
        copy_rows(model, rows, reserve_pks=False)
        write_history(model, rows, user=user, reason=reason, date=date)
    return objs


def write_history(model, rows, *, user=None, reason=None, date=None, history_type="+"):
    """One simple_history record per row {attname: value} of `model` (PostgreSQL, COPY)."""
    history = get_history_manager_for_model(model).model
    date = date or timezone.now()
    user_id = getattr(user, "pk", None)
    tracked = [f.attname for f in history.tracked_fields]
    extra = {
        "history_date": date,
        "history_change_reason": reason,
        "history_type": history_type,
        "history_user_id": user_id,
    }
    history_rows = [{**{a: row[a] for a in tracked}, **extra} for row in rows]
    if hasattr(history, "history_relation"):
        for history_row, row in zip(history_rows, rows, strict=True):
            history_row["history_relation_id"] = row[model._meta.pk.attname]
    fields = [f for f in _concrete(history) if f.attname in history_rows[0]]
    encoders = [(f.attname, _encoder(f)) for f in fields]
    lines = ["\t".join(encode(r[a]) for a, encode in encoders) + "\n" for r in history_rows]
    _copy(history._meta.db_table, [f.column for f in fields], lines)


def update_columns(model, pks, columns):
    """Set columns {attname: [value per pk]} of the rows `pks` of `model` in one statement."""
    pks = list(pks)
    if not pks:
        return
    fields = {name: model._meta.get_field(name) for name in columns}
    table = connection.ops.quote_name(model._meta.db_table)
    pk_column = connection.ops.quote_name(model._meta.pk.column)
    names = list(columns)
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
