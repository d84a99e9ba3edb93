import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection

import leads.models
from leads import permissions
from tests.factories import ManagerFactory, UserFactory

pytestmark = pytest.mark.django_db


def _team_dashboard():
    return Permission.objects.get(content_type__app_label="leads",
                                  codename="view_team_dashboard")


def _other_permission():
    return Permission.objects.get(content_type__app_label="leads", codename="view_lead")


def _grant(user, how):
    """Give `user` what `how` names (see CASES)."""
    if how == "direct":
        user.user_permissions.add(_team_dashboard())
    elif how == "group":
        group = Group.objects.create(name="Team leads")
        group.permissions.add(_other_permission(), _team_dashboard())
        user.groups.add(group)
    elif how == "direct and group":
        _grant(user, "direct")
        _grant(user, "group")
    elif how == "other permissions only":
        user.user_permissions.add(_other_permission())
        group = Group.objects.create(name="Readers")
        group.permissions.add(_other_permission())
        user.groups.add(group)
    elif how == "same codename, another app":
        lookalike = Permission.objects.create(
            codename="view_team_dashboard", name="Lookalike",
            content_type=ContentType.objects.get_for_model(get_user_model()),
        )
        user.user_permissions.add(lookalike)
        group = Group.objects.create(name="Lookalikes")
        group.permissions.add(lookalike)
        user.groups.add(group)
    else:
        assert how in ("none", "managers group"), how


# (how the user is granted, factory traits, is a manager)
CASES = [
    pytest.param("none", {}, False, id="plain user"),
    pytest.param("none", {"staff": True}, False, id="staff without the permission"),
    pytest.param("other permissions only", {}, False, id="a group without it"),
    pytest.param("same codename, another app", {}, False, id="same codename, another app"),
    pytest.param("direct", {}, True, id="permission directly"),
    pytest.param("group", {}, True, id="permission through a group"),
    pytest.param("direct and group", {}, True, id="permission both ways"),
    pytest.param("managers group", {}, True, id="the Managers group"),
    pytest.param("none", {"superuser": True}, True, id="superuser"),
    pytest.param("direct", {"is_active": False}, False, id="inactive holder"),
    pytest.param("managers group", {"is_active": False}, False, id="inactive manager"),
    pytest.param("none", {"superuser": True, "is_active": False}, False,
                 id="inactive superuser"),
]


def user_for(how, traits):
    """A fresh user granted as `how` says, among others whose grants must not count."""
    user = (ManagerFactory if how == "managers group" else UserFactory)(**traits)
    _grant(user, how)
    UserFactory(username="bystander")
    _grant(UserFactory(username="granted"), "direct")
    ManagerFactory(username="boss")
    UserFactory(username="root", superuser=True)
    return get_user_model().objects.get(pk=user.pk)


def sql_form_says(user):
    sql, params = permissions.sees_all_leads_sql("u")
    user_model = get_user_model()
    table = connection.ops.quote_name(user_model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {sql} FROM {table} u WHERE u.id = %s", [*params, user.pk])
        rows = cursor.fetchall()
    assert len(rows) == 1
    return bool(rows[0][0])  # SQLite answers 0/1


@pytest.mark.parametrize("how, traits, expected", CASES)
def test_orm_and_sql_forms_state_one_rule(how, traits, expected, django_assert_max_num_queries):
    user = user_for(how, traits)
    assert not hasattr(user, permissions.PRELOADED_ATTRIBUTE)  # the ORM form answers
    with django_assert_max_num_queries(1):
        assert permissions.user_sees_all_leads(user) is expected
    assert sql_form_says(user) is expected


def test_anonymous_user_sees_only_own_leads(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert permissions.user_sees_all_leads(AnonymousUser()) is False


@pytest.mark.parametrize("preloaded", [True, False])
def test_an_answer_loaded_with_the_user_costs_no_query(django_assert_num_queries, preloaded):
    # The opposite of what the grants say: only the preloaded answer can give it.
    user = user_for("none" if preloaded else "direct", {})
    setattr(user, permissions.PRELOADED_ATTRIBUTE, preloaded)
    with django_assert_num_queries(0):
        assert permissions.user_sees_all_leads(user) is preloaded


def test_the_rule_is_not_reexported_from_models():
    assert not hasattr(leads.models, "user_sees_all_leads")
    assert not hasattr(leads.models, "team_dashboard_grants")
