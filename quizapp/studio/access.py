"""Who may reach what in the studio: checked in every view, never in a template block that renders alone."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404

from quizapp.bank.models import Bank


def instructor_required(view):
    """Logged in (else the login page) and an instructor or staff (else 404: the studio does not exist for them)."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not (request.user.is_instructor or request.user.is_staff):
            raise Http404("No such page.")
        return view(request, *args, **kwargs)

    return wrapper


def editable_bank(request, slug) -> Bank:
    """A bank this user edits (owner, editor, or staff for ownerless banks), or 404."""
    return get_object_or_404(Bank.objects.editable_by(request.user), slug=slug)


def managed_bank(request, slug) -> Bank:
    """A bank whose settings and editors this user controls (its owner; staff for ownerless banks), or 404."""
    bank = editable_bank(request, slug)
    if not bank.can_manage(request.user):
        raise Http404("No such page.")
    return bank
