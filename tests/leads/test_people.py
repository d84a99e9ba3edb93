"""Who can own leads: the active members of the Telecallers group, in every
pick list of users (dashboard, /leads/ filter, admin reassign and owner search),
and the dashboard's cached list follows group membership."""

import importlib
import re

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.test import Client

from leads.admin import LeadActionForm
from leads.people import TELECALLERS_GROUP, lead_owners
from tests.factories import ManagerFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    """Two telecallers, a former one, a manager and the admin account."""
    return {
        "asha": UserFactory(username="asha"),
        "ravi": UserFactory(username="ravi"),
        "gone": UserFactory(username="gone", is_active=False),
        "boss": ManagerFactory(username="boss"),
        "root": UserFactory(username="root", superuser=True),
    }


def _options(html, name):
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S).group(1)
    return re.findall(r'<option value="\d+"[^>]*>([^<]*)</option>', select)


def test_lead_owners_are_the_active_telecallers_by_username(team):
    assert [user.username for user in lead_owners()] == ["asha", "ravi"]


def test_lead_owners_follow_group_membership(team):
    Group.objects.get(name=TELECALLERS_GROUP).user_set.add(team["boss"])
    team["asha"].groups.clear()
    assert [user.username for user in lead_owners()] == ["boss", "ravi"]


def test_migration_puts_users_neither_staff_nor_superuser_in_the_group(team):
    group = Group.objects.get(name=TELECALLERS_GROUP)
    group.delete()
    migration = importlib.import_module("leads.migrations.0010_telecallers_group")
    migration.create_telecallers_group(apps, None)
    members = Group.objects.get(name=TELECALLERS_GROUP).user_set.order_by("username")
    assert [user.username for user in members] == ["asha", "gone", "ravi"]


def test_dashboard_user_picker_lists_the_lead_owners(team):
    client = Client()
    client.force_login(team["boss"])
    html = client.get("/dashboard/").content.decode()
    assert _options(html, "user") == ["asha", "ravi"]


def test_lead_list_user_filter_lists_the_lead_owners(team):
    client = Client()
    client.force_login(team["boss"])
    html = client.get("/leads/").content.decode()
    assert _options(html, "user") == ["asha", "ravi"]


def test_admin_reassign_offers_the_lead_owners(team):
    choices = [label for value, label in LeadActionForm().fields["creator"].choices if value]
    assert choices == ["asha", "ravi"]


def test_dashboard_user_list_follows_group_membership(team, django_capture_on_commit_callbacks):
    client = Client()
    client.force_login(team["boss"])
    assert _options(client.get("/dashboard/").content.decode(), "user") == ["asha", "ravi"]
    with django_capture_on_commit_callbacks(execute=True):
        team["boss"].groups.add(Group.objects.get(name=TELECALLERS_GROUP))
    assert _options(client.get("/dashboard/").content.decode(), "user") == [
        "asha", "boss", "ravi"]
    with django_capture_on_commit_callbacks(execute=True):
        Group.objects.get(name=TELECALLERS_GROUP).user_set.remove(team["asha"])
    assert _options(client.get("/dashboard/").content.decode(), "user") == ["boss", "ravi"]


def test_demo_telecallers_are_the_lead_owners():
    from leads.demo_data import ensure_demo_users

    ensure_demo_users(telecallers=2)
    assert [user.username for user in lead_owners()] == ["telecaller01", "telecaller02"]
