"""Who sees which leads: the one home of the manager rule.

A manager sees and edits every lead and the whole team's dashboard; anyone
else only their own leads. A manager is an *active* user who is a superuser or
holds ``leads.view_team_dashboard``, directly or through a group.

The rule is written twice, side by side, and tests/leads/test_permissions.py
holds the two forms to the same answer in every case:

- ``user_sees_all_leads(user)``: the ORM form, what the code calls.
- ``sees_all_leads_sql(alias)``: the same rule as an SQL expression over a
  user row, which the authentication backend (crm/auth.py) selects with the
  user itself, so that a request knows the answer without a statement of its
  own. It is written by hand because building the same two EXISTS with the
  ORM on every request costs more Python than the rest of a warm dashboard
  request.

A user loaded by that backend carries the answer for the request as
``user.sees_all_leads`` (a bool); ``user_sees_all_leads`` then returns it
without a query, as ``has_perm`` does with its own per-user cache. A user
loaded any other way (another backend, RequestFactory, a factory in a test)
has no such attribute and is asked with the ORM.
"""

import functools

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Q

# The attribute a preloaded answer sits in (set by crm.auth.ViewerBackend).
PRELOADED_ATTRIBUTE = "sees_all_leads"

APP_LABEL = "leads"
CODENAME = "view_team_dashboard"


def team_dashboard_grants(user):
    """The permission rows that give `user` leads.view_team_dashboard, directly
    or through a group (a queryset, for EXISTS)."""
    from django.contrib.auth.models import Permission

    return Permission.objects.filter(
        content_type__app_label=APP_LABEL, codename=CODENAME
    ).filter(Q(user=user) | Q(group__user=user))


def user_sees_all_leads(user):
    """True for a manager (see the module docstring), False for anyone else,
    anonymous and inactive users included.

    The answer preloaded with the user, if any; otherwise at most one query,
    where ``user.has_perm`` needs two (user and group permissions).
    """
    preloaded = getattr(user, PRELOADED_ATTRIBUTE, None)
    if preloaded is not None:
        return preloaded
    if not user.is_active:
        return False
    if user.is_superuser:
        return True
    return team_dashboard_grants(user).exists()


def sees_all_leads_sql(alias):
    """(sql, params): a boolean SQL expression, true when the row of the user
    table aliased `alias` in the enclosing query is a manager. The params are
    positional (``%s``), in the order they appear in `sql`."""
    return _sees_all_leads_sql(alias), [APP_LABEL, CODENAME]


@functools.cache
def _sees_all_leads_sql(alias):
    from django.contrib.auth.models import Group, Permission

    user_model = get_user_model()
    quote = connection.ops.quote_name
    user_permissions = quote(user_model.user_permissions.through._meta.db_table)
    user_groups = quote(user_model.groups.through._meta.db_table)
    group_permissions = quote(Group.permissions.through._meta.db_table)
    permission = quote(Permission._meta.db_table)
    content_type = quote(Permission.content_type.field.related_model._meta.db_table)
    user_id = f"{alias}.{quote(user_model._meta.pk.column)}"
    # The permission row first, then membership by IN: PostgreSQL plans this
    # shape much faster than the joins written the other way round, and
    # planning is most of this expression's cost.
    return (
        f"({alias}.is_active AND ({alias}.is_superuser OR EXISTS ("
        f"SELECT 1 FROM {permission} p "
        f"JOIN {content_type} ct ON ct.id = p.content_type_id "
        f"WHERE ct.app_label = %s AND p.codename = %s AND ("
        f"p.id IN (SELECT permission_id FROM {user_permissions} WHERE user_id = {user_id}) "
        f"OR p.id IN (SELECT granted.permission_id FROM {user_groups} member "
        f"JOIN {group_permissions} granted ON granted.group_id = member.group_id "
        f"WHERE member.user_id = {user_id})))))"
    )
