"""Search by name (leads/name_search.py) on both backends: the same answers
from PostgreSQL's index and SQLite's scan."""

import pytest
from django.db import connection
from django.urls import reverse

from leads.models import Lead
from leads.name_search import name_search_words, prefix_tsquery
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

NAMES = ["Meera Nair", "Ibrahim Khan", "Dr.Ravi Kumar", "Sean O'Brien", "Mary-Jane Watson",
         "A.K. Sharma", "ÉMILE Dubois", "asha_rao", "Ravi2 Singh"]


@pytest.fixture
def named_leads():
    for name in NAMES:
        LeadFactory(customer_name=name, car_registration="")
    if connection.vendor == "postgresql":
        # Answers must come from the index, not a scan that would hide a
        # wrong index expression (reset when the test's transaction ends).
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")


def _found(term):
    return sorted(Lead.objects.search(term).values_list("customer_name", flat=True))


@pytest.mark.parametrize(("term", "expected"), [
    ("mee", ["Meera Nair"]),
    ("nai", ["Meera Nair"]),
    ("MEERA nair", ["Meera Nair"]),
    ("mee na", ["Meera Nair"]),
    ("na mee", ["Meera Nair"]),
    ("meera x", []),
    ("ravi", ["Dr.Ravi Kumar", "Ravi2 Singh"]),  # "Dr.Ravi": the dot separates words
    ("dr", ["Dr.Ravi Kumar"]),
    ("brien", ["Sean O'Brien"]),
    ("o'brien", ["Sean O'Brien"]),
    ("jane", ["Mary-Jane Watson"]),
    ("k", ["A.K. Sharma", "Dr.Ravi Kumar", "Ibrahim Khan"]),
    ("émi", ["ÉMILE Dubois"]),
    ("rao", ["asha_rao"]),  # the underscore separates words too
    ("ravi2", ["Ravi2 Singh"]),
])
def test_search_matches_the_beginning_of_any_word_of_the_name(named_leads, term, expected):
    assert _found(term) == expected


@pytest.mark.parametrize("term", ["rah", "eera", "harma", "umar", "ane"])
def test_search_never_matches_inside_a_word(named_leads, term):
    assert _found(term) == []


@pytest.mark.parametrize(("term", "expected"), [
    *[(term, []) for term in ["%", "_", "'", "\\", "':*", ":*", "&|!()", "(", "!", "%%"]],
    ("<script>", []),
    ("' OR 1=1 --", []),
    ("a' & 'b", []),
    ("a:*", ["A.K. Sharma", "asha_rao"]),
    ("%mee%", ["Meera Nair"]),
])
def test_special_characters_never_fail_and_only_separate_words(named_leads, term, expected):
    assert _found(term) == expected


def test_a_blank_term_is_no_filter(named_leads):
    assert len(_found("   ")) == len(NAMES)


def test_bulk_writes_keep_the_name_search_right(named_leads):
    from django.utils import timezone

    from leads.demo_data import load_leads

    LeadFactory(customer_name="Old Name")
    creator = Lead.objects.get(customer_name="Old Name").creator
    Lead.objects.filter(customer_name="Old Name").update(customer_name="Kavya Iyer")
    Lead.objects.bulk_create([Lead(customer_name="Kavita Rao", mobile="9829012345",
                                   creator=creator)])
    now = timezone.now()
    # COPY on PostgreSQL, bulk_create elsewhere.
    load_leads(rows=[("Kavin Das", "9829011111", "", None, "", "needs_followup", now, now,
                      creator.pk)])
    assert _found("kav") == ["Kavin Das", "Kavita Rao", "Kavya Iyer"]
    assert _found("old") == []


def test_name_search_words_and_tsquery():
    assert name_search_words("  Mr. O'Brien-Smith_2 ") == ["mr", "o", "brien", "smith", "2"]
    assert name_search_words("%_':*") == []
    assert prefix_tsquery(["mee", "na"]) == "'mee':* & 'na':*"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL planner")
def test_name_search_is_answered_through_its_gin_index_on_postgresql(named_leads):
    plan = Lead.objects.search("mee na").order_by("-created_at")[:51].explain()
    assert "Bitmap Index Scan on lead_name_words_idx" in plan


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL catalogue")
def test_name_words_index_is_the_expression_the_search_writes():
    from leads.name_search import NAME_WORDS_VECTOR_SQL

    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'lead_name_words_idx'")
        (definition,) = cursor.fetchone()
    assert "USING gin" in definition
    # PostgreSQL prints the casts it added (the varchar column to text).
    assert NAME_WORDS_VECTOR_SQL % "(customer_name)" in definition.replace("::text", "")


def test_lead_list_searches_names_in_the_same_box(client, telecaller):
    client.force_login(telecaller)
    wanted = LeadFactory(creator=telecaller, customer_name="Meera Nair", car_registration="")
    LeadFactory(creator=telecaller, customer_name="Ibrahim Khan", car_registration="")
    LeadFactory(customer_name="Meera Shah")  # someone else's
    response = client.get(reverse("leads:list"), {"q": "mee"})
    assert response.status_code == 200
    assert [lead.pk for lead in response.context["leads"]] == [wanted.pk]


@pytest.mark.parametrize("term", ["%", "'", "\\", "':*", "&|!()", "a' & 'b", "x" * 100])
def test_lead_list_with_special_characters_answers_200(client, telecaller, term):
    client.force_login(telecaller)
    LeadFactory(creator=telecaller, customer_name="Meera Nair")
    response = client.get(reverse("leads:list"), {"q": term, "due": "overdue"})
    assert response.status_code == 200
    assert list(response.context["leads"]) == []


@pytest.mark.parametrize(("prefix", "possible"), [
    ("R", True), ("RJ", True), ("RJ1", True), ("RJ14AB", True), ("RJ14AB1234", True),
    ("22B", True), ("22BH12", True), ("MEERA", False), ("RJX", False), ("RJ14AB12345", False),
])
def test_could_start_registration(prefix, possible):
    from leads.normalization import could_start_registration

    assert could_start_registration(prefix) is possible


def test_a_term_that_could_be_a_registration_searches_names_and_registrations():
    LeadFactory(customer_name="Rjesh Rao", car_registration="")
    LeadFactory(customer_name="Kabir Shah", car_registration="RJ14AB1234")
    LeadFactory(customer_name="Meera Nair", car_registration="MH12A0007")
    assert _found("rj") == ["Kabir Shah", "Rjesh Rao"]
    assert _found("rj14") == ["Kabir Shah"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL planner settings")
@pytest.mark.parametrize(("term", "planned"), [("mee", True), ("98290", False), ("", False)])
def test_lead_list_plans_a_name_search_from_the_gin_index(client, manager, term, planned):
    from django.test.utils import CaptureQueriesContext

    client.force_login(manager)
    LeadFactory(customer_name="Meera Nair")
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("leads:list"), {"q": term}).status_code == 200
    sql = [query["sql"] for query in queries]
    assert ("SET LOCAL enable_indexscan = off" in sql) is planned
