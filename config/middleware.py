"""Project-wide request guards that belong to no app."""

from django.conf import settings
from django.http import HttpResponse, HttpResponseNotAllowed
from django.shortcuts import render

HEALTH_CHECK_PATH = "/healthz/"


class HealthCheckMiddleware:
    """`/healthz/` for a load balancer's or a container's health check: 200 while this app process answers.

    First in the chain, so a check that asks by address needs no allowed Host, no session and no HTTPS redirect.
    It asks nothing of the database on purpose: when PostgreSQL is away every server is equally unable, and taking
    them all out of rotation would turn the app's own error pages into the balancer's 503 for everyone.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path != HEALTH_CHECK_PATH:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        response = HttpResponse("ok\n", content_type="text/plain")
        response["Cache-Control"] = "no-store"
        return response


class RequestSizeLimitMiddleware:
    """Refuse a request whose declared body is larger than MAX_REQUEST_BYTES before anything reads it.

    Django's DATA_UPLOAD_MAX_MEMORY_SIZE caps form fields but not uploaded files, so without this a 30 MB
    multipart body to any POST view is read in full. A body without Content-Length reaches Django as empty.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        limit = settings.MAX_REQUEST_BYTES
        if request.path_info.endswith(settings.UPLOAD_PATH_SUFFIX):  # an instructor's question-bank upload
            limit = settings.MAX_UPLOAD_BYTES
        if declared > limit:
            context = {"limit_kib": limit // 1024}
            return render(request, "413.html", context, status=413)
        return self.get_response(request)


class NulByteMiddleware:
    """Answer 400 to a NUL byte in the path, the query string or a form body, before any view runs.

    Nothing the app accepts contains one, and PostgreSQL refuses it in a text value, so a path parameter or a
    query parameter looked up in the database (an invite token, `?bank=`) would end in a 500 there. Django's form
    fields refuse NUL characters already; this closes the values views read straight from the request.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        query = request.META.get("QUERY_STRING", "").lower()
        body_is_form = request.content_type == "application/x-www-form-urlencoded"
        if (
            "\x00" in request.path
            or "%00" in query
            or "\x00" in query
            or (body_is_form and request.method == "POST" and b"%00" in request.body.lower())
        ):
            return render(request, "400.html", status=400)
        return self.get_response(request)
