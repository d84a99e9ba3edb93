import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.urls import reverse

from leads.models import LeadStatus
from tests.factories import LeadFactory, ManagerFactory, UserFactory

pytestmark = pytest.mark.django_db

User = get_user_model()


def _change(user):
    return reverse("admin:auth_user_change", args=[user.pk])


def _change_data(user, **extra):
    return {"username": user.username, "first_name": "", "last_name": "", "email": "",
            "is_active": "on", **extra}


def test_a_manager_adds_a_telecaller_who_can_own_leads(manager_client, manager):
    response = manager_client.post(reverse("admin:auth_user_add"), {
        "username": "newcaller", "password1": "a-long-pass-phrase-9", "usable_password": "true",
        "password2": "a-long-pass-phrase-9"})
    assert response.status_code == 302
    user = User.objects.get(username="newcaller")
    assert (user.is_staff, user.is_superuser) == (False, False)
    assert list(user.groups.values_list("name", flat=True)) == ["Telecallers"]
    assert LogEntry.objects.filter(user=manager, object_id=str(user.pk)).count() >= 1


def test_a_manager_cannot_grant_rights(manager_client):
    caller = UserFactory(username="caller")
    response = manager_client.post(_change(caller), _change_data(
        caller, is_staff="on", is_superuser="on", groups=["1"]))
    assert response.status_code == 302
    caller.refresh_from_db()
    assert (caller.is_staff, caller.is_superuser) == (False, False)
    assert list(caller.groups.values_list("name", flat=True)) == ["Telecallers"]


@pytest.mark.parametrize("other", ["superuser", "manager"])
def test_a_manager_cannot_change_superusers_or_managers(manager_client, other):
    target = (UserFactory(username="root", superuser=True) if other == "superuser"
              else ManagerFactory(username="colleague"))
    page = manager_client.get(_change(target))
    assert page.status_code in (302, 403)
    manager_client.post(_change(target), _change_data(target, is_active=""))
    manager_client.post(reverse("admin:auth_user_password_change", args=[target.pk]), {
        "password1": "a-long-pass-phrase-9", "password2": "a-long-pass-phrase-9"})
    target.refresh_from_db()
    assert target.is_active is True
    assert target.check_password("password")
    listed = manager_client.get(reverse("admin:auth_user_changelist")).context["cl"].result_list
    assert target not in listed


def test_a_manager_resets_a_telecallers_password_and_it_is_logged(manager_client, manager):
    caller = UserFactory(username="caller")
    response = manager_client.post(
        reverse("admin:auth_user_password_change", args=[caller.pk]),
        {"password1": "a-long-pass-phrase-9", "password2": "a-long-pass-phrase-9",
         "usable_password": "true"})
    assert response.status_code == 302
    caller.refresh_from_db()
    assert caller.check_password("a-long-pass-phrase-9")
    assert LogEntry.objects.filter(user=manager, object_id=str(caller.pk)).exists()


def test_deactivating_someone_with_open_leads_offers_the_hand_over_first(manager_client):
    caller = UserFactory(username="caller")
    LeadFactory.create_batch(2, creator=caller)
    LeadFactory(creator=caller, status=LeadStatus.LOST)
    response = manager_client.post(_change(caller), _change_data(caller, is_active=""))
    assert response.status_code == 200
    body = response.content.decode()
    assert "caller still owns 2 open lead(s)." in body
    assert f'href="{reverse("leads:hand_over")}?from_user={caller.pk}"' in body
    caller.refresh_from_db()
    assert caller.is_active is True
    response = manager_client.post(_change(caller), _change_data(
        caller, is_active="", deactivate_anyway="on"))
    assert response.status_code == 302
    caller.refresh_from_db()
    assert caller.is_active is False


def test_deactivating_someone_without_open_leads_needs_no_hand_over(manager_client):
    caller = UserFactory(username="caller")
    LeadFactory(creator=caller, status=LeadStatus.COMPLETED)
    assert manager_client.post(_change(caller), _change_data(caller, is_active="")
                               ).status_code == 302
    caller.refresh_from_db()
    assert caller.is_active is False


def test_the_hand_over_admin_action_opens_the_hand_over_page(manager_client):
    caller = UserFactory(username="caller")
    response = manager_client.post(reverse("admin:auth_user_changelist"), {
        "action": "hand_over_open_leads", "_selected_action": [caller.pk]})
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('leads:hand_over')}?from_user={caller.pk}"


def test_the_reschedule_admin_action_opens_the_reschedule_page(manager_client):
    leads = LeadFactory.create_batch(2)
    response = manager_client.post(reverse("admin:leads_lead_changelist"), {
        "action": "reschedule", "_selected_action": [lead.pk for lead in leads]})
    assert response.status_code == 302
    assert response["Location"] == (f"{reverse('leads:reschedule')}?lead={leads[0].pk}"
                                    f"&lead={leads[1].pk}")


def test_telecallers_have_no_user_admin(telecaller_client):
    response = telecaller_client.get(reverse("admin:auth_user_changelist"))
    assert response.status_code == 302
