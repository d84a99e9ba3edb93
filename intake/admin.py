from django.contrib import admin, messages
from django.utils import timezone

from intake.api import new_token
from intake.models import ApiToken, ImportBatch, IntakeEntry
from leads.admin import LargeTablePaginator


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    list_display = ("pk", "file_name", "created_by", "created_at", "status", "rows_total",
                    "leads_created", "queued", "skipped", "failed")
    list_filter = ("status", "created_at")
    list_select_related = ("created_by",)
    ordering = ("-created_at",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(IntakeEntry)
class IntakeEntryAdmin(admin.ModelAdmin):
    list_display = ("customer_name", "mobile", "source", "service_type", "state", "received_at",
                    "batch", "lead")
    list_filter = ("state", "source", "service_type", "received_at")
    search_fields = ("mobile", "customer_name")
    list_select_related = ("batch", "lead")
    raw_id_fields = ("lead", "batch", "token", "duplicate_of_lead", "duplicate_of_entry")
    readonly_fields = ("received_at", "decided_at", "decided_by")
    ordering = ("-received_at",)
    show_full_result_count = False
    paginator = LargeTablePaginator


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "source", "prefix", "rate_per_minute", "created_at", "revoked_at")
    list_filter = ("revoked_at",)
    fields = ("name", "source", "rate_per_minute", "prefix", "created_at", "created_by",
              "revoked_at")
    readonly_fields = ("prefix", "created_at", "created_by", "revoked_at")
    actions = ("revoke",)

    def has_delete_permission(self, request, obj=None):
        # Entries keep their token: revoke instead.
        return False

    def save_model(self, request, obj, form, change):
        if not change:
            raw, obj.token_hash, obj.prefix = new_token()
            obj.created_by = request.user
            super().save_model(request, obj, form, change)
            # Shown this once: only the hash is stored.
            self.message_user(
                request,
                f"The token for {obj.source}: {raw} — copy it now, it is not shown again. "
                "Send it as: Authorization: Bearer <token>",
                messages.WARNING,
            )
            return
        super().save_model(request, obj, form, change)

    @admin.action(description="Revoke selected tokens", permissions=["change"])
    def revoke(self, request, queryset):
        revoked = queryset.filter(revoked_at=None).update(revoked_at=timezone.now())
        self.message_user(request, f"Revoked {revoked} token(s).", messages.SUCCESS)
