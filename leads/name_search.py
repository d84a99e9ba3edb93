"""Search by name: a term's words each match the beginning of some word of
the customer's name, case-insensitively ("mee na" finds "Meera Nair", "rah"
does not find "Ibrahim").

A word is a run of letters and digits: spaces and punctuation separate
words on both sides ("Dr.Ravi", "O'Brien", "Mary-Jane" are two words each).

PostgreSQL answers through the GIN index `lead_name_words_idx` (migration
0011) on the expression NAME_WORDS_VECTOR_SQL, with a prefix tsquery
(`'mee':* & 'na':*`). It is an expression index: PostgreSQL keeps it right on
every write, QuerySet.update(), bulk_create() and COPY included. Other
databases (SQLite, the embedded default) test each word with a regular
expression: a scan, fine at the embedded default's scale (docs/leads.md).
"""

import re
from contextlib import contextmanager

from django.db import connections, transaction
from django.db.models import BooleanField, F, Func

from leads.normalization import mobile_search_prefix

# Letters and digits (Python's \w without the underscore).
_WORD = re.compile(r"[^\W_]+")

# The indexed expression, `%s` standing for the column. regexp_replace first:
# the text-search parser alone keeps "Dr.Ravi" or "A.K." as one token (a
# host name, a file name), which a search for "ravi" or "k" would miss.
NAME_WORDS_VECTOR_SQL = (
    "to_tsvector('simple'::regconfig, regexp_replace(%s, '[^[:alnum:]]+', ' ', 'g'))"
)


def name_search_words(term):
    """The words of a search term, lower-cased; [] when it has none."""
    return [word.lower() for word in _WORD.findall(term or "")]


def searches_names(term):
    """Whether LeadQuerySet.search(term) matches names (not only a mobile)."""
    term = (term or "").strip()
    return bool(term) and mobile_search_prefix(term) is None and bool(name_search_words(term))


@contextmanager
def planned_from_the_name_index(*, active, using="default"):
    """Run the queries inside with PostgreSQL taking a name search's matches
    from the GIN index (a bitmap scan), then sorting them.

    The planner cannot tell a rare prefix from a common one (a prefix
    missing from the statistics gets a default selectivity), so with
    ORDER BY ... LIMIT it may walk the created_at or follow-up index in
    order, computing the name expression row by row until a page is full:
    for a name that matches nothing, the whole table (docs/leads.md has the
    plans). Plain index and sequential scans are turned off for this
    transaction only (SET LOCAL); bitmap scans of every index stay on.
    """
    connection = connections[using]
    if not active or connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(using=using):
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_indexscan = off")
            cursor.execute("SET LOCAL enable_seqscan = off")
        yield


def prefix_tsquery(words):
    """`'w1':* & 'w2':*`. The words are letters and digits only, so quoting
    them needs no escaping and the query can never be malformed."""
    return " & ".join(f"'{word}':*" for word in words)


class NameWordsStartWith(Func):
    """True when each of `words` (from name_search_words, not empty) begins a
    word of the text column `expression`."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, expression, *, words):
        if not words:
            raise ValueError("NameWordsStartWith needs at least one word.")
        super().__init__(F(expression) if isinstance(expression, str) else expression)
        self.words = list(words)

    def as_postgresql(self, compiler, connection, **extra_context):
        column, params = compiler.compile(self.source_expressions[0])
        sql = f"{NAME_WORDS_VECTOR_SQL % column} @@ to_tsquery('simple'::regconfig, %s)"
        return sql, [*params, prefix_tsquery(self.words)]

    def as_sql(self, compiler, connection, **extra_context):
        # Django registers REGEXP on SQLite (Python's re). `(?<![^\W_])`: not
        # preceded by a letter or digit, i.e. at the start of a word.
        column, params = compiler.compile(self.source_expressions[0])
        sql = " AND ".join(f"{column} REGEXP %s" for _ in self.words)
        patterns = [rf"(?i)(?<![^\W_]){re.escape(word)}" for word in self.words]
        return f"({sql})", [*params * len(self.words), *patterns]
