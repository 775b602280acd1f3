from django.contrib import admin

from .models import Bank, Choice, Domain, Note, Question, QuestionVersion, TaskStatement, Topic

admin.site.register([Bank, Domain, TaskStatement, Topic, Note])


class ChoiceInline(admin.TabularInline):
    model = Choice
    extra = 0
    readonly_fields = ("position", "text", "is_correct", "rationale")
    can_delete = False


@admin.register(QuestionVersion)
class QuestionVersionAdmin(admin.ModelAdmin):
    """Read-only: versions are frozen; a change is a new version loaded from the bank files."""

    list_display = ("question", "number", "domain", "kind", "created_at")
    list_filter = ("domain", "kind")
    search_fields = ("question__key", "stem")
    inlines = [ChoiceInline]

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ("key", "bank", "status", "current_version")
    list_filter = ("bank", "status")
    search_fields = ("key",)
