"""The whole trail, for staff only; a bank's and a group's owners read their own part from the studio and groups."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_safe

from .queries import page_context


@login_required
@require_safe
def events(request):
    if not request.user.is_staff:
        raise Http404("No such page.")
    return render(request, "audit/events.html", page_context(request))
