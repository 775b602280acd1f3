"""Views that belong to no app: error pages and the health check."""

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe


def bad_request(request, exception=None):
    """The app's 400 page, rendered without touching the body that could not be read.

    Django's default handler is wrapped in `requires_csrf_token`, whose check reads request.POST again and
    fails the same way (a body in a charset that cannot be decoded), which ends in the server's bare 500.
    """
    return render(request, "400.html", status=400)


@require_safe
@never_cache
def healthz(request):
    """For a load balancer's health check: 200 while this app process answers requests.

    It asks nothing of the database on purpose: when PostgreSQL is away every server is equally unable, and taking
    them all out of rotation would turn the app's own error handling into the balancer's 503 for every page.
    """
    return HttpResponse("ok\n", content_type="text/plain")
