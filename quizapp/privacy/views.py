"""A learner's own data: what is held, a download of all of it, and the deletion of the account."""

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from quizapp.accounts.client import over_rate_limit

from .forms import DeleteAccountForm
from .services import account_delete, account_export


@login_required
@require_safe
def data(request):
    return render(request, "privacy/data.html")


@login_required
@require_safe
@never_cache
def download(request):
    now = timezone.now()
    payload = json.dumps(account_export(user=request.user, now=now), cls=DjangoJSONEncoder, indent=2)
    response = HttpResponse(payload, content_type="application/json; charset=utf-8")
    name = f"quizapp-data-{request.user.username}-{now:%Y-%m-%d}.json"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
def delete(request):
    if request.method == "POST" and over_rate_limit(request, "account-delete", **settings.PASSWORD_RESET_RATE_LIMIT):
        message = "Too many tries from your network in the last hour. Please wait a while and try again."
        return render(request, "429.html", {"message": message}, status=429)
    form = DeleteAccountForm(request.POST or None, user=request.user)
    if request.method == "POST":
        if form.is_valid():
            account_delete(user=request.user, now=timezone.now())
            logout(request)
            messages.success(
                request, "Your account is deleted. Your personal data has gone; thank you for studying here."
            )
            return redirect("home")
        return render(request, "privacy/delete.html", {"form": form}, status=422)
    return render(request, "privacy/delete.html", {"form": form})
