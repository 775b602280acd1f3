from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.db import transaction

from quizapp import audit

from .models import User

# What makes an account more powerful: each change of one of these is a role grant on the audit trail.
PRIVILEGE_FIELDS = ("role", "is_staff", "is_superuser", "is_active")


@admin.register(User)
class QuizUserAdmin(UserAdmin):
    fieldsets = UserAdmin.fieldsets + (("Role", {"fields": ("role",)}),)
    list_display = ("username", "email", "role", "is_staff", "date_joined")
    list_filter = ("role", "is_staff", "is_active")

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            changed = {name: [form.initial.get(name), getattr(obj, name)] for name in PRIVILEGE_FIELDS}
            changed = {name: values for name, values in changed.items() if change and values[0] != values[1]}
            if changed:
                said = ", ".join(f"{name} {old} → {new}" for name, (old, new) in changed.items())
                audit.record("role.grant", summary=f"{obj.username}: {said} (admin)", target=obj, detail=changed)
