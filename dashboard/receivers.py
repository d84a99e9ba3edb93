"""The dashboard listens to the leads app: a committed lead write retires the
cached entries it changed and refreshes its owners' parts of the team view
(connected in DashboardConfig.ready)."""

from dashboard.team_parts import invalidate_and_refresh


def invalidate_on_leads_changed(sender, *, owner_ids, users_changed=False, **kwargs):
    # Every lead write changes the team view; the user list only when
    # accounts changed.
    invalidate_and_refresh(owner_ids, users_changed=users_changed)
