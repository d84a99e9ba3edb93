from django.contrib import admin, messages
from django.utils import timezone

from accounts import throttling
from accounts.models import LoginLockout


class RunningFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("running", "Running"), ("ended", "Ended")]

    def queryset(self, request, queryset):
        if self.value() == "running":
            return queryset.filter(until__gt=timezone.now())
        if self.value() == "ended":
            return queryset.filter(until__lte=timezone.now())
        return queryset


@admin.register(LoginLockout)
class LoginLockoutAdmin(admin.ModelAdmin):
    """Where a manager unlocks a user: select the lockout, "Unlock". Managers
    hold the view and delete permissions (accounts/migrations/0002)."""

    list_display = ("who", "address", "started_at", "until", "failures", "running")
    list_filter = (RunningFilter,)
    search_fields = ("username", "address")
    readonly_fields = ("username", "address", "started_at", "until", "failures")
    actions = ("unlock",)

    @admin.display(description="username")
    def who(self, obj):
        return "every username (the whole address)" if obj.covers_address else obj.username

    @admin.display(boolean=True, description="running")
    def running(self, obj):
        return obj.until > timezone.now()

    @admin.action(description="Unlock the selected logins", permissions=["delete"])
    def unlock(self, request, queryset):
        count = throttling.lockouts_lift(lockouts=queryset)
        self.message_user(request, f"Unlocked {count} lockout(s): those logins work again.",
                          messages.SUCCESS)

    def get_actions(self, request):
        # "Delete selected" would end the lockouts but keep their failures,
        # so the next failure would lock again at once: "Unlock" does both.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def delete_model(self, request, obj):
        throttling.lockouts_lift(lockouts=LoginLockout.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        throttling.lockouts_lift(lockouts=queryset)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
