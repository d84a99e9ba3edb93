"""SQL the ORM does not write: reading rows of statements written by hand
(the dashboard's and the timeline's hot queries) as the ORM would, and
writing rows by PostgreSQL's text COPY (the demo and benchmark loaders, the
import)."""

from datetime import date


def datetime_reader(connection):
    """A function turning a datetime column's value, as `connection`'s raw
    cursor returns it, into what the ORM gives (an aware datetime): SQLite
    returns text; PostgreSQL's driver already returns aware datetimes, and
    None stays None."""
    convert = getattr(connection.ops, "convert_datetimefield_value", None)
    if convert is None:
        return lambda value: value
    return lambda value: convert(value, None, connection)


def copy_field(value):
    """`value` as a field of PostgreSQL's text COPY format: \\N for None, ISO
    8601 for dates and datetimes, backslash, tab and newline escaped."""
    if value is None:
        return "\\N"
    if isinstance(value, date):  # datetimes too
        return value.isoformat()
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def write_copy_lines(copy, lines, *, chunk_rows=5000):
    """Write `lines` (one text-COPY row each, without its newline) to a
    psycopg `copy`, `chunk_rows` to a write: far less Python per row than a
    write_row() call each, and the server parses one stream. Returns how
    many were written."""
    written, chunk = 0, []
    for line in lines:
        chunk.append(line)
        if len(chunk) >= chunk_rows:
            copy.write("\n".join(chunk) + "\n")
            written += len(chunk)
            chunk = []
    if chunk:
        copy.write("\n".join(chunk) + "\n")
        written += len(chunk)
    return written
