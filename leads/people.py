"""Who can own leads: the one definition every pick list of users uses.

The people who own leads are the active members of the ``Telecallers`` group
(created by migration 0010, which put every existing user who was neither
staff nor superuser in it; ``seed_demo`` adds the demo's telecallers). The
admin account and managers are not offered as owners unless a superuser puts
them in the group.
"""

from django.contrib.auth import get_user_model

TELECALLERS_GROUP = "Telecallers"


def lead_owners():
    """The active members of the Telecallers group, by username (a queryset)."""
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name=TELECALLERS_GROUP)
        .order_by("username")
    )
