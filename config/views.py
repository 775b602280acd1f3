"""Error pages that belong to no app."""

from django.shortcuts import render


def bad_request(request, exception=None):
    """The app's 400 page, rendered without touching the body that could not be read.

    Django's default handler is wrapped in `requires_csrf_token`, whose check reads request.POST again and
    fails the same way (a body in a charset that cannot be decoded), which ends in the server's bare 500.
    """
    return render(request, "400.html", status=400)
