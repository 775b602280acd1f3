"""Dates and times in the viewer's own time zone (activated per request by UserTimeZoneMiddleware), zone named."""

from django import template
from django.template.defaultfilters import date as date_filter
from django.utils import timezone

register = template.Library()


@register.filter
def when(value):
    """ "1 Dec 2026, 17:00 CET": a moment with its date, in the active zone."""
    if not value:
        return ""
    return date_filter(timezone.localtime(value), "j M Y, H:i T")


@register.filter
def at_time(value):
    """ "17:00 CET": a moment's time of day, in the active zone (for moments within the day)."""
    if not value:
        return ""
    return date_filter(timezone.localtime(value), "H:i T")


@register.filter
def day(value):
    """ "1 Dec 2026": a moment's date in the active zone."""
    if not value:
        return ""
    return date_filter(timezone.localtime(value), "j M Y")


@register.simple_tag
def now_local():
    return date_filter(timezone.localtime(), "j M Y, H:i T")
