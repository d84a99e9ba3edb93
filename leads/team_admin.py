"""The team in admin: managers add telecaller accounts, reset their passwords
and deactivate them; superusers keep Django's full user admin.

A manager (leads.permissions: the manager rule, and staff to enter admin)
sees and changes only plain accounts: never a superuser, a staff user or a
member of Managers, so nobody raises their own or a colleague's rights. The
fields a manager edits carry no rights at all (no staff, superuser, groups or
permissions); an account a manager adds joins the Telecallers group. Every
change is logged in admin's history by Django's own admin (LogEntry).
Deactivating someone who still owns open leads is refused until their leads
are handed over (a link to the hand-over page) or the "deactivate anyway" box
is ticked.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.contrib.auth.models import Group
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from leads.models import Lead
from leads.people import TELECALLERS_GROUP
from leads.permissions import user_sees_all_leads

MANAGERS_GROUP = "Managers"

User = get_user_model()


def _is_team_manager(user):
    """A manager who is not a superuser, allowed into admin."""
    return (user.is_active and user.is_staff and not user.is_superuser
            and user_sees_all_leads(user))


def _is_plain_account(user):
    """An account a manager may change: no admin rights of its own."""
    return not (user.is_superuser or user.is_staff
                or user.groups.filter(name=MANAGERS_GROUP).exists())


class TeamMemberChangeForm(UserChangeForm):
    deactivate_anyway = forms.BooleanField(
        required=False, label="Deactivate anyway, leaving their open leads with them")

    def clean(self):
        cleaned = super().clean()
        deactivating = self.instance.pk and self.instance.is_active and not cleaned.get(
            "is_active", True)
        if deactivating and not cleaned.get("deactivate_anyway"):
            open_leads = Lead.objects.filter(creator=self.instance).not_closed().count()
            if open_leads:
                url = reverse("leads:hand_over") + "?" + urlencode(
                    {"from_user": self.instance.pk})
                raise forms.ValidationError(format_html(
                    '{} still owns {} open lead(s). <a href="{}">Hand them over first</a>, '
                    "or tick “deactivate anyway”.",
                    self.instance.get_username(), open_leads, url))
        return cleaned


admin.site.unregister(User)


@admin.register(User)
class TeamUserAdmin(UserAdmin):
    form = TeamMemberChangeForm
    manager_fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name", "email")}),
        ("Status", {"fields": ("is_active", "deactivate_anyway")}),
    )
    actions = ("hand_over_open_leads",)

    def _manages_team(self, request):
        return _is_team_manager(request.user)

    def has_module_permission(self, request):
        return self._manages_team(request) or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        if request.user.is_superuser:
            return super().has_view_permission(request, obj)
        return self._manages_team(request) and (obj is None or _is_plain_account(obj))

    def has_change_permission(self, request, obj=None):
        if request.user.is_superuser:
            return super().has_change_permission(request, obj)
        return self._manages_team(request) and (obj is None or _is_plain_account(obj))

    def has_add_permission(self, request):
        return self._manages_team(request) or super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        # Managers deactivate; only a superuser deletes an account.
        return request.user.is_superuser and super().has_delete_permission(request, obj)

    def get_queryset(self, request):
        users = super().get_queryset(request)
        if request.user.is_superuser:
            return users
        return users.filter(is_superuser=False, is_staff=False).exclude(
            groups__name=MANAGERS_GROUP)

    def get_fieldsets(self, request, obj=None):
        if obj is not None and not request.user.is_superuser:
            return self.manager_fieldsets
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None:
            fieldsets = (*fieldsets, ("Deactivation", {"fields": ("deactivate_anyway",)}))
        return fieldsets

    def get_list_filter(self, request):
        return super().get_list_filter(request) if request.user.is_superuser else ("is_active",)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change and not request.user.is_superuser:
            # An account a manager adds is a telecaller: it can own leads.
            obj.groups.add(Group.objects.get_or_create(name=TELECALLERS_GROUP)[0])

    @admin.action(description="Hand over the open leads of the selected user",
                  permissions=["change"])
    def hand_over_open_leads(self, request, queryset):
        users = list(queryset[:2])
        if len(users) != 1:
            self.message_user(request, "Select one user, then run the action again.",
                              messages.ERROR)
            return None
        url = reverse("leads:hand_over") + "?" + urlencode({"from_user": users[0].pk})
        return redirect(url)
