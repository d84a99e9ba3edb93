"""Bulk writes on PostgreSQL without the ORM's per-value work: ids taken from
the table's sequence in one statement, rows sent by COPY as preformatted
text, arrays bound on the server. Building a big INSERT through the ORM
(and binding every value client-side, Django's default with psycopg 3)
costs far more than the database's work for the import's row counts.
Elsewhere (SQLite) callers use the ORM."""

import json
from datetime import date, datetime

import psycopg
from django.db import connection
from django.db.models.expressions import BaseExpression

from crm.raw_sql import write_copy_lines

COPY_CHUNK_ROWS = 5000


class NotCopyable(Exception):
    """A value COPY cannot carry (an expression such as a database default)."""


def is_postgresql():
    return connection.vendor == "postgresql"


def server_cursor():
    """A psycopg cursor on Django's connection (same transaction) binding its
    parameters on the server: a list is sent as one array value."""
    connection.ensure_connection()
    return psycopg.Cursor(connection.connection)


def _text(value):
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        value = json.dumps(value)
    if isinstance(value, BaseExpression):
        raise NotCopyable(repr(value))
    return (str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
            .replace("\r", "\\r"))


def _getter(field):
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return lambda obj: field.pre_save(obj, True)
    attname = field.attname
    return lambda obj: getattr(obj, attname)


def copy_insert(model, objs):
    """INSERT `objs` (unsaved instances of `model`) by COPY; sets their pks.
    Raises NotCopyable (nothing written) when a value cannot be sent so."""
    if not objs:
        return
    table = model._meta.db_table
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    getters = [_getter(field) for field in fields]
    lines = []
    for obj in objs:
        lines.append("\t".join(_text(get(obj)) for get in getters))
    with server_cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, model._meta.pk.column, len(objs)],
        )
        ids = [row[0] for row in cursor.fetchall()]
        quote = connection.ops.quote_name
        columns = ", ".join(quote(c) for c in [model._meta.pk.column, *(f.column for f in fields)])
        with cursor.copy(f"COPY {quote(table)} ({columns}) FROM STDIN") as copy:
            write_copy_lines(copy, (f"{pk}\t{line}" for pk, line in zip(ids, lines, strict=True)),
                             chunk_rows=COPY_CHUNK_ROWS)
    for obj, pk in zip(objs, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias
