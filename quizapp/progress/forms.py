import datetime

from django import forms

from quizapp.exams.models import ExamBlueprint


class HistoryFilterForm(forms.Form):
    """Filters for the history; a bad value is reported and ignored, never an error page."""

    exam = forms.ModelChoiceField(queryset=ExamBlueprint.objects.none(), required=False, empty_label="All exams")
    mode = forms.ChoiceField(choices=[("", "All modes"), *ExamBlueprint.Mode.choices], required=False)
    since = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["exam"].queryset = (
            ExamBlueprint.objects.filter(attempts__user=user).distinct().order_by("bank__title", "position")
        )

    def _plausible(self, name):
        day = self.cleaned_data.get(name)
        if day and not (datetime.date(2000, 1, 1) <= day <= datetime.date(2100, 12, 31)):
            raise forms.ValidationError("Choose a date between 2000 and 2100.")
        return day

    def clean_since(self):
        return self._plausible("since")

    def clean_until(self):
        return self._plausible("until")

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", "The end date is before the start date.")
        return data

    def usable(self) -> dict:
        """The valid filters only: junk in one field drops that filter, not the others."""
        self.is_valid()
        return {name: self.cleaned_data.get(name) for name in self.fields if name not in self.errors}
