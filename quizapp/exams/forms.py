from django import forms

from quizapp.bank.models import Domain, QuestionReport


class StartForm(forms.Form):
    """Start an exam; a drill asks which domain to practise."""

    domain = forms.ModelChoiceField(queryset=Domain.objects.none(), empty_label=None, required=False)

    def __init__(self, *args, blueprint, **kwargs):
        super().__init__(*args, **kwargs)
        self.blueprint = blueprint
        if blueprint.asks_for_domain:
            self.fields["domain"].queryset = blueprint.bank.domains.all()
            self.fields["domain"].required = True
            self.fields["domain"].label = "Domain to practise"
        else:
            del self.fields["domain"]


class ReportForm(forms.Form):
    kind = forms.ChoiceField(choices=QuestionReport.Kind.choices, label="What is wrong?")
    text = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}), label="Details (optional)"
    )
