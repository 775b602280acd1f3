from django.contrib import admin

from .models import Attempt, ExamBlueprint


@admin.register(ExamBlueprint)
class ExamBlueprintAdmin(admin.ModelAdmin):
    list_display = ("title", "bank", "mode", "question_count", "duration_minutes", "pass_mark_percent", "is_active")


@admin.register(Attempt)
class AttemptAdmin(admin.ModelAdmin):
    list_display = ("user", "blueprint", "state", "started_at", "finished_at", "correct_count", "question_count")
    list_filter = ("state", "blueprint")
    readonly_fields = [f.name for f in Attempt._meta.fields]
