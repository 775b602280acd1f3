"""Reading the trail: one page of events, filtered by the start of their action code."""

import re

from django.core.paginator import Paginator

from .models import AuditEvent

EVENTS_PER_PAGE = 50
# The families of actions, for the filter; an event's action starts with one of these and a dot.
ACTION_FAMILIES = (
    "account",
    "assignment",
    "bank",
    "blueprint",
    "group",
    "import",
    "question",
    "report",
    "role",
    "seat",
    "sitting",
)
PREFIX = re.compile(r"[a-z_]+(\.[a-z_]*)?")


def action_prefix(raw: str | None) -> str:
    """The action prefix asked for ("bank" or "bank.publish"), or "" when it is missing or malformed."""
    raw = (raw or "").strip().lower()
    return raw if PREFIX.fullmatch(raw) else ""


def events_page(*, queryset=None, prefix: str = "", page: str | None = None):
    """A page of events, newest first: two queries (the count and the rows) however long the trail is."""
    events = (queryset if queryset is not None else AuditEvent.objects.all()).with_prefix(prefix).order_by("-at", "-pk")
    return Paginator(events, EVENTS_PER_PAGE).get_page(page)


def page_context(request, *, queryset=None) -> dict:
    prefix = action_prefix(request.GET.get("action"))
    return {
        "page": events_page(queryset=queryset, prefix=prefix, page=request.GET.get("page")),
        "prefix": prefix,
        "families": ACTION_FAMILIES,
    }
