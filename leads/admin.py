from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME, ActionForm
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.contrib.admin.widgets import AutocompleteSelect
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import connections
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode

from leads import services, team_admin  # noqa: F401 (team_admin registers the user admin)
from leads.admin_filters import typed_value_filter
from leads.csv_export import lead_csv_response
from leads.forms import keep_stored_followup
from leads.manager_forms import MAX_SELECTED_LEADS
from leads.models import (
    FollowupSnapshot,
    Lead,
    LeadChange,
    LeadStatus,
    OwnerChange,
    WorkedLead,
    validate_lead_owner,
)
from leads.people import lead_owners

# Filtered changelists count at most this many rows: enough to page through,
# cheap on a table of millions.
FILTERED_COUNT_CAP = 10_000
# Below this many estimated rows the planner's figure is not worth showing
# (a table never analysed reports -1): count, capped like a filtered list.
EXACT_COUNT_BELOW = 100_000


class LargeTablePaginator(Paginator):
    """A paginator that never runs a full COUNT(*) over the lead table.

    Unfiltered lists use PostgreSQL's planner estimate (pg_class.reltuples);
    filtered lists count at most FILTERED_COUNT_CAP rows. Pages past the cap
    are simply not offered.
    """

    @cached_property
    def count(self):
        queryset = self.object_list
        if not queryset.query.where:
            estimate = self._estimated_rows(queryset)
            if estimate is not None and estimate >= EXACT_COUNT_BELOW:
                return estimate
        return queryset.order_by()[:FILTERED_COUNT_CAP].count()

    @staticmethod
    def _estimated_rows(queryset):
        connection = connections[queryset.db]
        if connection.vendor != "postgresql":
            return None
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                [queryset.model._meta.db_table],
            )
            row = cursor.fetchone()
        if row is None or row[0] < 0:
            return None
        return int(row[0])


class LeadActionForm(ActionForm):
    status = forms.ChoiceField(
        choices=[("", "— status —"), *LeadStatus.choices], required=False, label="Status"
    )
    creator = forms.ModelChoiceField(
        queryset=lead_owners(),
        required=False,
        label="Reassign to",
        empty_label="— user —",
    )


class LeadAdminForm(forms.ModelForm):
    class Meta:
        model = Lead
        fields = ["customer_name", "mobile", "car_registration", "car_model", "service_type",
                  "source", "followup_date", "remarks", "status", "creator"]

    def clean_followup_date(self):
        # Admin shows seconds, the row may hold microseconds: an untouched
        # follow-up must not look moved (and be recorded as worked).
        return keep_stored_followup(
            self.cleaned_data["followup_date"], self.instance.followup_date
        )

    def clean_creator(self):
        # A lead left with a user who has since been deactivated can still be
        # edited; only a new owner must be active.
        creator = self.cleaned_data["creator"]
        if creator is not None and creator.pk != self.instance.creator_id:
            validate_lead_owner(creator)
        return creator


class OwnerAutocompleteView(AutocompleteJsonView):
    """The user search of a lead's owner field, for whoever may change leads.

    Django's own autocomplete asks for the permission to view users, which
    managers do not have (nor should: it opens the user admin). This one
    serves the lead's `creator` field only, and lists the people who can own
    leads (leads.people.lead_owners).
    """

    lead_admin = None

    def process_request(self, request):
        term, model_admin, source_field, to_field_name = super().process_request(request)
        if source_field != Lead._meta.get_field("creator"):
            raise PermissionDenied
        return term, model_admin, source_field, to_field_name

    def has_perm(self, request, obj=None):
        return (self.lead_admin.has_change_permission(request)
                or self.lead_admin.has_add_permission(request))

    def get_queryset(self):
        return super().get_queryset().filter(pk__in=lead_owners().values("pk"))


class OwnerAutocompleteSelect(AutocompleteSelect):
    url_name = "%s:leads_lead_owner_autocomplete"

    def optgroups(self, name, value, attr=None):
        # Django looks the submitted value up as it came, to show it again in
        # a refused form: one that is not a user id (a crafted form) would
        # end as a 500 instead of the form's own error.
        user_id = get_user_model()._meta.pk
        valid = []
        for item in value:
            try:
                user_id.clean(item, None)
            except ValidationError:
                continue
            valid.append(item)
        return super().optgroups(name, valid, attr)


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    form = LeadAdminForm
    list_display = (
        "customer_name",
        "mobile",
        "car_registration",
        "status",
        "followup_date",
        "creator",
        "source",
        "created_at",
    )
    list_filter = ("status", "creator", "followup_date", "created_at",
                   typed_value_filter("source", "source"),
                   typed_value_filter("service_type", "service type"),
                   typed_value_filter("car_model", "car model"))
    search_fields = ("mobile", "car_registration", "customer_name")
    search_help_text = (
        "Mobile (any format, prefix), registration (prefix) or customer name."
    )
    list_select_related = ("creator",)
    autocomplete_fields = ("creator",)
    readonly_fields = ("created_at", "modified_at", "owner_history")
    # Served by lead_created_idx (scanned backwards); the id tie-breaker the
    # admin appends is an incremental sort within equal timestamps.
    ordering = ("-created_at",)
    show_full_result_count = False
    paginator = LargeTablePaginator
    # Rendering admin rows is most of a changelist's time on a big table.
    list_per_page = 50
    action_form = LeadActionForm
    actions = ("set_status", "reassign", "reschedule", "export_csv")

    @admin.display(description="Owner history")
    def owner_history(self, obj):
        changes = (OwnerChange.objects.filter(lead=obj).order_by("changed_at", "pk")
                   .select_related("from_user", "to_user", "changed_by"))
        lines = [
            (date_format(timezone.localtime(change.changed_at), "DATETIME_FORMAT"),
             change.from_user.get_username() if change.from_user else "the queue",
             change.to_user.get_username(), change.get_rule_display(),
             change.changed_by.get_username() if change.changed_by else "the command line")
            for change in changes
        ]
        if not lines:
            return "No change of owner recorded."
        return format_html("<ul>{}</ul>", format_html_join(
            "", "<li>{}: {} → {} ({}, by {})</li>", lines))

    def get_urls(self):
        owner_search = OwnerAutocompleteView.as_view(admin_site=self.admin_site, lead_admin=self)
        return [
            path("owner-autocomplete/", self.admin_site.admin_view(owner_search),
                 name="leads_lead_owner_autocomplete"),
            *super().get_urls(),
        ]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "creator":
            kwargs.setdefault("widget", OwnerAutocompleteSelect(
                db_field, self.admin_site, using=kwargs.get("using")))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if not change:
            super().save_model(request, obj, form, change)
            return
        # Through the service: a moved follow-up is recorded as worked by the
        # admin user, in the same transaction.
        saved = services.lead_update(
            lead=obj,
            user=request.user,
            changes={name: form.cleaned_data[name] for name in form.changed_data},
        )
        obj.modified_at = saved.modified_at

    def response_action(self, request, queryset):
        # Django filters by the posted ids as they come: one that is not a
        # number or is out of range (a crafted form) would end as a 500.
        try:
            for value in request.POST.getlist(ACTION_CHECKBOX_NAME):
                Lead._meta.pk.clean(value, None)
        except ValidationError:
            self.message_user(request, "The selection is not a list of leads: select the leads "
                              "again, then run the action.", messages.ERROR)
            return None
        return super().response_action(request, queryset)

    def get_search_results(self, request, queryset, search_term):
        # Mobile and registration through their indexes; names too (admin only).
        return queryset.search(search_term, names=True), False

    @admin.action(description="Set status of selected leads", permissions=["change"])
    def set_status(self, request, queryset):
        status = request.POST.get("status", "")
        if status not in LeadStatus.values:
            self.message_user(
                request, "Choose a status next to the action, then run it again.", messages.ERROR
            )
            return
        changed = services.leads_set_status(leads=queryset, status=status, user=request.user)
        self.message_user(
            request, f"Set {changed} lead(s) to {LeadStatus(status).label}.", messages.SUCCESS
        )

    @admin.action(description="Reassign selected leads to a user", permissions=["change"])
    def reassign(self, request, queryset):
        form = LeadActionForm(request.POST)
        creator = form.fields["creator"]
        try:
            user = creator.clean(request.POST.get("creator", ""))
        except forms.ValidationError:
            user = None
        if user is None:
            self.message_user(
                request,
                "Choose an active user in “Reassign to”, then run the action again.",
                messages.ERROR,
            )
            return
        changed = services.leads_reassign(leads=queryset, creator=user,
                                           changed_by=request.user)
        self.message_user(
            request, f"Reassigned {changed} lead(s) to {user.get_username()}.", messages.SUCCESS
        )

    @admin.action(description="Reschedule selected leads…", permissions=["change"])
    def reschedule(self, request, queryset):
        ids = list(queryset.order_by("pk").values_list("pk", flat=True)[:MAX_SELECTED_LEADS + 1])
        if len(ids) > MAX_SELECTED_LEADS:
            self.message_user(
                request, f"Select at most {MAX_SELECTED_LEADS:,} leads to reschedule, or "
                "reschedule a user's overdue leads from the reschedule page.", messages.ERROR)
            return None
        return redirect(reverse("leads:reschedule") + "?" + urlencode({"lead": ids}, doseq=True))

    @admin.action(description="Export selected leads as CSV", permissions=["view"])
    def export_csv(self, request, queryset):
        filename = f"leads-{timezone.localdate():%Y%m%d}.csv"
        return lead_csv_response(queryset.order_by("id"), filename=filename)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WorkedLead)
class WorkedLeadAdmin(ReadOnlyAdmin):
    list_display = (
        "lead", "user", "kind", "work_date", "old_followup_date", "new_followup_date",
        "worked_at",
    )
    list_filter = ("kind", "work_date")
    list_select_related = ("lead", "user")
    ordering = ("-id",)
    show_full_result_count = False
    paginator = LargeTablePaginator


@admin.register(FollowupSnapshot)
class FollowupSnapshotAdmin(ReadOnlyAdmin):
    list_display = ("user", "date", "initial_count")
    list_filter = ("date",)
    list_select_related = ("user",)
    ordering = ("-date", "user__username")


@admin.register(LeadChange)
class LeadChangeAdmin(ReadOnlyAdmin):
    """The change history, deleted leads' included (the lead page shows a
    live lead's). Search by lead id."""

    list_display = ("lead_id", "kind", "field", "old_value", "new_value", "actor", "via",
                    "changed_at")
    list_filter = ("kind", "via")
    list_select_related = ("actor",)
    search_fields = ("=lead__id",)
    search_help_text = "A lead's id."
    ordering = ("-id",)
    show_full_result_count = False
    paginator = LargeTablePaginator

    def get_search_results(self, request, queryset, search_term):
        # Only an id: a text search over the values would scan the table.
        term = search_term.strip()
        if not term:
            return queryset, False
        if not term.isdigit() or len(term) > 18:
            return queryset.none(), False
        return queryset.filter(lead_id=int(term)), False
