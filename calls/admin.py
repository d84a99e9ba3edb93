from django.contrib import admin

from calls.models import CallLog
from leads.admin import LargeTablePaginator, ReadOnlyAdmin
from leads.permissions import user_sees_all_leads


@admin.register(CallLog)
class CallLogAdmin(ReadOnlyAdmin):
    """The call log for managers, read-only: a call is a fact, corrected by
    the next call, never edited."""

    list_display = ("called_at", "lead", "user", "outcome", "duration", "note")
    list_filter = ("outcome", "called_at")
    list_select_related = ("lead", "user")
    search_fields = ("=lead__id", "user__username")
    ordering = ("-called_at", "-id")
    show_full_result_count = False
    paginator = LargeTablePaginator

    # Managers see every lead, so every call (leads/permissions.py), without a
    # permission row of its own to hand out.
    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff and user_sees_all_leads(
            request.user
        )

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)
