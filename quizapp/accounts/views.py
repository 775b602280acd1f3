from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from .client import over_rate_limit
from .forms import SettingsForm, SignUpForm
from .services import user_create, user_settings_save

TOO_MANY = "Too many {what} from your network in the last hour. Please wait a while and try again."


@require_http_methods(["GET", "HEAD", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect("home")
    if request.method == "POST" and over_rate_limit(request, "signup", **settings.SIGNUP_RATE_LIMIT):
        return render(request, "429.html", {"message": TOO_MANY.format(what="sign-ups")}, status=429)
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = user_create(
            username=form.cleaned_data["username"],
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
            time_zone=form.cleaned_data["time_zone"],
        )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, "Welcome! Your account is ready: pick an exam to start.")
        return redirect("exams:catalogue")
    return render(request, "accounts/signup.html", {"form": form})


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def account_settings(request):
    form = SettingsForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        user_settings_save(user=request.user, **form.cleaned_data)
        messages.success(request, "Settings saved.")
        return redirect("accounts:settings")
    return render(request, "accounts/settings.html", {"form": form})


def csrf_failure(request, reason=""):
    """A form or an HTMX request whose CSRF token is stale (after a log-in elsewhere in this browser).

    HTMX requests get the page reloaded, which brings a fresh token and shows what was really saved; plain
    forms get a page that says what happened instead of Django's technical one.
    """
    response = render(request, "403_csrf.html", status=403)
    if getattr(request, "htmx", False):
        response["HX-Refresh"] = "true"
    return response


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset view, throttled per client address so it cannot be used to probe or flood addresses."""

    http_method_names = ["get", "head", "post", "options"]

    def post(self, request, *args, **kwargs):
        if over_rate_limit(request, "password-reset", **settings.PASSWORD_RESET_RATE_LIMIT):
            return render(request, "429.html", {"message": TOO_MANY.format(what="reset requests")}, status=429)
        return super().post(request, *args, **kwargs)
