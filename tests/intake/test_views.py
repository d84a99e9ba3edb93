"""The import pages: managers only, upload -> preview -> import -> result,
limits, failed rows CSV, revert, and the dashboard seeing the new leads."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from intake.models import BatchStatus, ImportBatch, IntakeEntry
from leads.models import Lead
from tests.factories import ManagerFactory, UserFactory
from tests.intake.conftest import csv_bytes
from tests.test_template_leaks import TEMPLATE_SYNTAX, visible_text

pytestmark = pytest.mark.django_db

IMPORT = reverse("intake:import")
RUN = reverse("intake:import_run")
ROWS = [["Name", "Phone", "Owner", "Notes"],
        ["Asha Rao", "98290 12345", "asha", "=HYPERLINK(\"x\")"],
        ["Bad", "123", "", "=cmd|' /C calc'!A0"],
        ["Queue", "9829012346", "", ""]]


@pytest.fixture
def manager_client(client):
    client.force_login(ManagerFactory(username="boss"))
    return client


def upload(client, content, name="campaign.csv", **fields):
    data = {"file": SimpleUploadedFile(name, content), "assign": "queue",
            "duplicates": "skip", **fields}
    return client.post(IMPORT, data)


def no_leaks(response):
    assert TEMPLATE_SYNTAX.findall(visible_text(response.content.decode())) == []


def test_telecallers_get_403_in_the_layout(client):
    client.force_login(UserFactory())
    for response in (client.get(IMPORT), client.post(RUN, {"token": "x"})):
        assert response.status_code == 403
        assert "Only managers can import leads." in response.content.decode()
        assert "Log out" in response.content.decode()


def test_anonymous_is_sent_to_log_in(client):
    assert client.get(IMPORT).status_code == 302


def test_upload_preview_import_result(manager_client, upload_dir):
    asha = UserFactory(username="asha")
    response = manager_client.get(IMPORT)
    assert response.status_code == 200
    no_leaks(response)
    response = upload(manager_client, csv_bytes(ROWS))
    assert response.status_code == 200
    no_leaks(response)
    page = response.content.decode()
    assert "Rows: <strong>3</strong>" in page and "Invalid: <strong>1</strong>" in page
    assert "9829012345" in page  # the first rows as they will be stored
    assert not IntakeEntry.objects.exists()
    token = response.context["token"]
    response = manager_client.post(RUN, {"token": token})
    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and response.url == reverse("intake:batch",
                                                                  args=[batch.pk])
    assert (batch.leads_created, batch.queued, batch.failed) == (1, 1, 1)
    assert batch.created_by.username == "boss"
    assert Lead.objects.get().creator == asha
    assert not list(upload_dir.iterdir())  # the upload is gone once imported
    response = manager_client.get(response.url)
    no_leaks(response)
    assert "Asha Rao" in response.content.decode()
    # The same upload cannot be imported twice.
    response = manager_client.post(RUN, {"token": token}, follow=True)
    assert "no longer here" in response.content.decode()
    assert ImportBatch.objects.count() == 1


def test_failed_rows_csv_neutralises_formulas(manager_client):
    UserFactory(username="asha")
    upload_response = upload(manager_client, csv_bytes(ROWS))
    manager_client.post(RUN, {"token": upload_response.context["token"]})
    batch = ImportBatch.objects.get()
    response = manager_client.get(reverse("intake:batch_failed_csv", args=[batch.pk]))
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows[0] == ["Name", "Phone", "Owner", "Notes", "error"]
    assert rows[1][:2] == ["Bad", "123"]
    assert rows[1][3] == "'=cmd|' /C calc'!A0"
    assert rows[1][4].startswith("Row 3, Phone: Enter a 10-digit")
    assert len(rows) == 2


def test_bad_file_is_refused_on_the_form(manager_client, upload_dir):
    response = upload(manager_client, b"%PDF-1.4 ...", name="leads.csv")
    assert response.status_code == 400
    assert "is a PDF" in response.content.decode()
    assert not list(upload_dir.iterdir())
    no_leaks(response)


def test_one_user_needs_a_user(manager_client):
    response = upload(manager_client, csv_bytes(ROWS), assign="user")
    assert response.status_code == 400
    assert "Choose the user who receives the leads." in response.content.decode()


def test_too_large_upload_is_refused_before_reading(manager_client, settings, monkeypatch):
    settings.INTAKE_UPLOAD_MAX_BYTES = 1000
    read = []
    monkeypatch.setattr("intake.views.save_upload", lambda *a: read.append(a))
    response = upload(manager_client, b"name,mobile\n" + b"A,9829012345\n" * 10_000)
    assert response.status_code == 413
    assert "at most 1000\xa0bytes" in response.content.decode()
    assert read == []


def test_row_cap_is_refused_with_the_limit(manager_client, settings):
    settings.INTAKE_UPLOAD_MAX_ROWS = 5
    rows = [["name", "mobile"]] + [[f"C{n}", f"98290{n:05d}"] for n in range(6)]
    response = upload(manager_client, csv_bytes(rows))
    assert response.status_code == 400
    assert "more than 5 data rows" in response.content.decode()


def test_revert_from_the_page_lists_worked_leads(manager_client):
    UserFactory(username="asha")
    upload_response = upload(manager_client, csv_bytes(ROWS))
    manager_client.post(RUN, {"token": upload_response.context["token"]})
    batch = ImportBatch.objects.get()
    Lead.objects.update(status="confirmed")
    response = manager_client.post(reverse("intake:batch_revert", args=[batch.pk]), follow=True)
    page = response.content.decode()
    assert "1 lead(s) were worked since and were left alone" in page
    assert "Leads left alone" in page and "Asha Rao" in page
    batch.refresh_from_db()
    assert batch.status == BatchStatus.REVERTED
    assert Lead.objects.count() == 1


def test_dashboard_sees_imported_leads(manager_client, django_capture_on_commit_callbacks):
    asha = UserFactory(username="asha")
    data = reverse("dashboard:data")
    today = timezone.localdate().isoformat()

    def new_leads():
        return manager_client.get(data, {"date": today, "user": asha.pk}).json()[
            "totals"]["new_leads"]

    assert new_leads() == 0  # now cached
    upload_response = upload(manager_client, csv_bytes(ROWS))
    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(RUN, {"token": upload_response.context["token"]})
    assert new_leads() == 1
