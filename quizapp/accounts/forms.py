import zoneinfo
from functools import cache

from django import forms
from django.contrib.auth.forms import UserCreationForm

from .models import User


@cache
def time_zone_choices() -> list[tuple[str, str]]:
    """Every IANA zone, UTC first, the rest by name (Europe/Paris shows as "Europe / Paris")."""
    names = sorted(name for name in zoneinfo.available_timezones() if "/" in name and not name.startswith("Etc/"))
    return [("UTC", "UTC"), *((name, name.replace("/", " / ").replace("_", " ")) for name in names)]


class TimeZoneField(forms.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=time_zone_choices, label="Time zone", **kwargs)


class SignUpForm(UserCreationForm):
    email = forms.EmailField(label="E-mail address", help_text="Used only to reset your password.")
    time_zone = TimeZoneField(
        initial="UTC",
        required=False,
        help_text="Dates and times are shown in this zone. Your browser's zone is chosen for you when it says one.",
    )

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email", "time_zone")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:  # app.js picks the browser's zone; a re-shown form keeps what the person chose
            self.fields["time_zone"].widget.attrs["data-browser-zone"] = ""

    def clean_time_zone(self):
        return self.cleaned_data.get("time_zone") or "UTC"

    def clean_email(self):
        email = self.cleaned_data["email"].lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("An account with this e-mail address already exists.")
        return email


class SettingsForm(forms.ModelForm):
    time_zone = TimeZoneField()

    class Meta:
        model = User
        fields = ("time_zone", "extra_time_percent", "extra_time_minutes")
        help_texts = {
            "extra_time_percent": "Added to the duration of your own timed exams, e.g. 50 for time and a half.",
            "extra_time_minutes": "Added on top: AWS grants non-native English speakers +30 minutes on request.",
        }
        widgets = {
            "extra_time_percent": forms.NumberInput(attrs={"min": 0, "max": 200, "inputmode": "numeric"}),
            "extra_time_minutes": forms.NumberInput(attrs={"min": 0, "max": 600, "inputmode": "numeric"}),
        }
