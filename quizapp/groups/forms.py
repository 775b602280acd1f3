from django import forms
from django.db.models import Q

from quizapp.bank.models import Bank
from quizapp.exams.models import ExamBlueprint

from .models import Assignment, Membership, StudyGroup


class GroupForm(forms.ModelForm):
    class Meta:
        model = StudyGroup
        fields = ("name", "description")
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}
        help_texts = {"description": "Optional: what the group is preparing for, when it meets."}


class GroupSettingsForm(forms.ModelForm):
    class Meta:
        model = StudyGroup
        fields = ("name", "description", "joining_open", "leaderboard_enabled")
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}
        labels = {"joining_open": "Open for joining", "leaderboard_enabled": "Leaderboard"}
        help_texts = {
            "joining_open": "When off, neither the code nor the invite link admits anyone new.",
            "leaderboard_enabled": "Members see a leaderboard of the members who opted in; no one else is listed.",
        }


class JoinForm(forms.Form):
    code = forms.CharField(
        label="Join code", max_length=20, help_text="The eight characters your instructor gave you, e.g. K7QM-2XPA."
    )

    def clean_code(self):
        from .services import normalise_code

        return normalise_code(self.cleaned_data["code"])


class UsernameForm(forms.Form):
    username = forms.CharField(label="Instructor's username", max_length=150)


class AccommodationForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ("extra_time_percent", "extra_time_minutes")
        labels = {"extra_time_percent": "Extra time (%)", "extra_time_minutes": "Extra minutes"}
        widgets = {
            "extra_time_percent": forms.NumberInput(attrs={"min": 0, "max": 200, "inputmode": "numeric"}),
            "extra_time_minutes": forms.NumberInput(attrs={"min": 0, "max": 600, "inputmode": "numeric"}),
        }


class OptInForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ("leaderboard_opt_in",)
        labels = {"leaderboard_opt_in": "Show me on the group's leaderboard"}


class LocalDateTimeInput(forms.DateTimeInput):
    """A native date and time picker; the value is read in the instructor's own time zone."""

    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class AssignmentForm(forms.ModelForm):
    class Meta:
        model = Assignment
        fields = ("blueprint", "opens_at", "closes_at", "attempt_limit", "review_policy")
        labels = {
            "blueprint": "Exam",
            "opens_at": "Opens",
            "closes_at": "Closes",
            "attempt_limit": "Attempts allowed",
            "review_policy": "Answers and explanations",
        }
        widgets = {"opens_at": LocalDateTimeInput(), "closes_at": LocalDateTimeInput()}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        banks = Bank.objects.editable_by(user).values("pk")
        # Published exams anyone can take, and the exams of banks this instructor edits; not one-domain drills,
        # which ask each learner to choose a domain.
        self.fields["blueprint"].queryset = (
            ExamBlueprint.objects.filter(is_active=True)
            .filter(Q(bank__status=Bank.Status.PUBLISHED) | Q(bank__in=banks))
            .exclude(domain_selection=ExamBlueprint.DomainSelection.CHOSEN)
            .select_related("bank")
            .order_by("bank__title", "position")
        )
        self.fields["blueprint"].label_from_instance = lambda b: f"{b.title} ({b.bank.title})"
        for name in ("opens_at", "closes_at"):
            self.fields[name].input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
            self.fields[name].help_text = "In your time zone."

    def clean(self):
        cleaned = super().clean()
        opens, closes = cleaned.get("opens_at"), cleaned.get("closes_at")
        if opens and closes and closes <= opens:
            self.add_error("closes_at", "The closing time must come after the opening time.")
        return cleaned


class ExtendForm(forms.Form):
    minutes = forms.IntegerField(min_value=1, max_value=180, initial=10, label="Extra minutes")
