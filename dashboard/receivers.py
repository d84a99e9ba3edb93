"""The dashboard listens to the leads app: a committed lead write retires the
cached entries it changed (connected in DashboardConfig.ready)."""

from dashboard.cache import invalidate_dashboard


def invalidate_on_leads_changed(sender, *, owner_ids, users_changed=False, **kwargs):
    # Every lead write changes the team view; the user list only when
    # accounts changed.
    invalidate_dashboard(user_ids=owner_ids, team=True, users_list=users_changed)
