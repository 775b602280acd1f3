from django.contrib import admin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: staff look the trail up here; nobody adds, changes or deletes an event."""

    list_display = ("at", "actor_name", "action", "summary", "ip", "bank_id", "group_id")
    list_filter = ("action",)
    search_fields = ("actor_name", "summary", "target_label", "action")
    date_hierarchy = "at"
    readonly_fields = [field.name for field in AuditEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
