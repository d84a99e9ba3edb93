from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db import connections
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.functional import cached_property

from leads import services
from leads.csv_export import iter_lead_csv_rows
from leads.forms import keep_stored_followup
from leads.models import FollowupSnapshot, Lead, LeadStatus, WorkedLead

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
        queryset=get_user_model().objects.filter(is_active=True).order_by("username"),
        required=False,
        label="Reassign to",
        empty_label="— user —",
    )


class LeadAdminForm(forms.ModelForm):
    class Meta:
        model = Lead
        fields = ["customer_name", "mobile", "car_registration", "followup_date", "remarks",
                  "status", "creator"]

    def clean_followup_date(self):
        # Admin shows seconds, the row may hold microseconds: an untouched
        # follow-up must not look moved (and be recorded as worked).
        return keep_stored_followup(
            self.cleaned_data["followup_date"], self.instance.followup_date
        )


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
        "created_at",
    )
    list_filter = ("status", "creator", "followup_date", "created_at")
    search_fields = ("mobile", "car_registration", "customer_name")
    search_help_text = (
        "Mobile (any format, prefix), registration (prefix) or customer name."
    )
    list_select_related = ("creator",)
    autocomplete_fields = ("creator",)
    readonly_fields = ("created_at", "modified_at")
    # Served by lead_created_idx (scanned backwards); the id tie-breaker the
    # admin appends is an incremental sort within equal timestamps.
    ordering = ("-created_at",)
    show_full_result_count = False
    paginator = LargeTablePaginator
    # Rendering admin rows is most of a changelist's time on a big table.
    list_per_page = 50
    action_form = LeadActionForm
    actions = ("set_status", "reassign", "export_csv")

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
        changed = services.leads_reassign(leads=queryset, creator=user)
        self.message_user(
            request, f"Reassigned {changed} lead(s) to {user.get_username()}.", messages.SUCCESS
        )

    @admin.action(description="Export selected leads as CSV", permissions=["view"])
    def export_csv(self, request, queryset):
        filename = f"leads-{timezone.localdate():%Y%m%d}.csv"
        response = StreamingHttpResponse(
            iter_lead_csv_rows(queryset.order_by("id")), content_type="text/csv"
        )
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


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
