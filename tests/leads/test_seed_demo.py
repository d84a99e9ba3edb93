import pytest
from django.core.management import CommandError, call_command

from leads.models import Lead

pytestmark = pytest.mark.django_db

FIELDS = ("customer_name", "mobile", "car_registration", "followup_date", "remarks", "status",
          "created_at", "creator__username")


def _rows():
    return list(Lead.objects.order_by("id").values_list(*FIELDS))


def test_seed_demo_is_deterministic(settings):
    settings.DEBUG = True
    call_command("seed_demo", "--seed", "7", "--leads", "300", "--users", "3")
    first = _rows()
    Lead.objects.all().delete()
    call_command("seed_demo", "--seed", "7", "--leads", "300", "--users", "3")
    assert _rows() == first
    assert len(first) == 300
    Lead.objects.all().delete()
    call_command("seed_demo", "--seed", "8", "--leads", "300", "--users", "3")
    assert _rows() != first


def test_seed_demo_spreads_statuses_and_followups(settings):
    settings.DEBUG = True
    call_command("seed_demo", "--leads", "2000")
    assert sorted(Lead.objects.values_list("status", flat=True).distinct()) == [
        "completed", "confirmed", "did_not_pick_up", "feedback", "needs_followup", "open"]
    assert Lead.objects.filter(followup_date=None).exists()
    from django.utils import timezone
    due_today = Lead.objects.followup_on(timezone.localdate()).count()
    assert 20 <= due_today <= 200  # "a few percent" of 2,000
    assert Lead.objects.values("creator").distinct().count() == 8


def test_seed_demo_creates_the_printed_logins(settings, capsys):
    settings.DEBUG = True
    call_command("seed_demo", "--leads", "10", "--users", "2")
    out = capsys.readouterr().out
    assert "admin / admin" in out and "manager / manager" in out
    from django.contrib.auth import authenticate
    manager = authenticate(username="manager", password="manager")
    assert manager.has_perm("leads.view_team_dashboard") is True
    assert authenticate(username="telecaller02", password="telecaller") is not None


def test_seed_demo_if_empty_skips_when_leads_exist(settings, capsys):
    settings.DEBUG = True
    call_command("seed_demo", "--leads", "5", "--users", "1")
    capsys.readouterr()
    call_command("seed_demo", "--leads", "5", "--users", "1", "--if-empty")
    assert Lead.objects.count() == 5
    # `make run` runs it every time: the logins are printed every time.
    assert "manager / manager" in capsys.readouterr().out


def test_seed_demo_refuses_debug_off_without_force(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DJANGO_DEBUG=1"):
        call_command("seed_demo", "--leads", "5")
    assert Lead.objects.count() == 0
    call_command("seed_demo", "--leads", "5", "--users", "1", "--force")
    assert Lead.objects.count() == 5
