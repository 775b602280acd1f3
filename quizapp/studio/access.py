"""Who may reach what in the studio: checked in every view, never in a template block that renders alone."""

from django.http import Http404
from django.shortcuts import get_object_or_404

from quizapp.bank.models import Bank


def editable_bank(request, slug) -> Bank:
    """A bank this user edits (owner, editor, or staff for ownerless banks), or 404."""
    return get_object_or_404(Bank.objects.editable_by(request.user), slug=slug)


def managed_bank(request, slug) -> Bank:
    """A bank whose settings and editors this user controls (its owner; staff for ownerless banks), or 404."""
    bank = editable_bank(request, slug)
    if not bank.can_manage(request.user):
        raise Http404("No such page.")
    return bank
