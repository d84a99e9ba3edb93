from django.contrib import admin

from whatsapp.models import WhatsAppSend, WhatsAppTemplate


@admin.register(WhatsAppTemplate)
class WhatsAppTemplateAdmin(admin.ModelAdmin):
    list_display = ("name", "text", "modified_at")
    search_fields = ("name",)
    readonly_fields = ("created_at", "modified_at")


@admin.register(WhatsAppSend)
class WhatsAppSendAdmin(admin.ModelAdmin):
    list_display = ("template_name", "lead", "user", "sent_at")
    list_select_related = ("lead", "user")
    list_filter = ("sent_at",)
    ordering = ("-id",)
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
