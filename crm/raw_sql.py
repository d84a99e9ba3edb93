"""Reading rows from statements written by hand (the dashboard's and the
timeline's hot queries): what the ORM would have done to their values."""


def datetime_reader(connection):
    """A function turning a datetime column's value, as `connection`'s raw
    cursor returns it, into what the ORM gives (an aware datetime): SQLite
    returns text; PostgreSQL's driver already returns aware datetimes, and
    None stays None."""
    convert = getattr(connection.ops, "convert_datetimefield_value", None)
    if convert is None:
        return lambda value: value
    return lambda value: convert(value, None, connection)
