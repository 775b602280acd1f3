from django.contrib import messages
from django.contrib.auth import login
from django.shortcuts import redirect, render

from .forms import SignUpForm
from .services import user_create


def signup(request):
    if request.user.is_authenticated:
        return redirect("home")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = user_create(
            username=form.cleaned_data["username"],
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
        )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, "Welcome! Your account is ready: pick an exam to start.")
        return redirect("exams:catalogue")
    return render(request, "accounts/signup.html", {"form": form})


def csrf_failure(request, reason=""):
    """A form or an HTMX request whose CSRF token is stale (after a log-in elsewhere in this browser).

    HTMX requests get the page reloaded, which brings a fresh token and shows what was really saved; plain
    forms get a page that says what happened instead of Django's technical one.
    """
    response = render(request, "403_csrf.html", status=403)
    if getattr(request, "htmx", False):
        response["HX-Refresh"] = "true"
    return response
