import time
import zoneinfo
from urllib.parse import quote

from django.conf import settings
from django.shortcuts import resolve_url
from django.utils import timezone
from django_htmx.http import HttpResponseClientRedirect

from quizapp import audit

from .client import client_ip


class HtmxLoginRedirectMiddleware:
    """Send an HTMX request whose session has ended to the login page as a full navigation.

    Without this, htmx follows the login redirect itself and swaps the whole login page into the small element
    it was updating (an autosave status, a flag button).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        htmx = getattr(request, "htmx", None)
        if htmx and not htmx.boosted and response.status_code == 302:
            login_url = resolve_url(settings.LOGIN_URL)
            if response["Location"].startswith(login_url):
                return HttpResponseClientRedirect(f"{login_url}?next={quote(current_path(htmx), safe='/')}")
        return response


def current_path(htmx) -> str:
    """The page the HTMX request came from, or '/' when the client sent a malformed HX-Current-URL."""
    try:
        return htmx.current_url_abs_path or "/"
    except ValueError:  # e.g. "https://[::1": urlsplit refuses it
        return "/"


class UserTimeZoneMiddleware:
    """Show every date and time in the signed-in user's own time zone (stored in UTC, as always)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            try:
                timezone.activate(zoneinfo.ZoneInfo(user.time_zone))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


class SessionIdleExpiryMiddleware:
    """Sign a user out after SESSION_COOKIE_AGE seconds without a request; any request starts the count again.

    Django's session age counts from the last save, so touching the session renews it. To keep autosaves cheap the
    session is written at most once per SESSION_REFRESH_SECONDS, which only shortens the idle window by that much.
    A learner in an exam sends a request with every click, so they stay signed in; and an attempt never ends with a
    session: its clock is the server's, and logging in again resumes it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            if now - request.session.get(RENEWED_KEY, 0) >= settings.SESSION_REFRESH_SECONDS:
                request.session[RENEWED_KEY] = now
        return self.get_response(request)


RENEWED_KEY = "_renewed_at"


def mark_session_renewed(sender, request, user, **kwargs):
    """Logging in saves the session anyway: start the renewal clock there, so the next request writes nothing."""
    if getattr(request, "session", None) is not None:
        request.session[RENEWED_KEY] = int(time.time())


class AuditContextMiddleware:
    """Make the request's user and client address the actor of every audit event the view records.

    It lives here rather than in quizapp.audit so that the audit app stays below accounts and imports nothing of
    ours: accounts itself records role grants and account deletions.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with audit.acting(user=getattr(request, "user", None), ip=client_ip(request)):
            return self.get_response(request)
