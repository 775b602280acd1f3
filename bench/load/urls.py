"""The app's URLconf plus the benchmark's baseline: a minimal GET and POST behind the same middleware.

The baseline views touch no table of ours. `login_required` makes them read the session and the user, as every
exam view does, and the POST goes through the CSRF check like an autosave; what is left of an autosave's cost
beyond them is the engine's own.
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from config.urls import handler400  # noqa: F401 (handler400 is read from here)
from config.urls import urlpatterns as app_urlpatterns


@login_required
@require_http_methods(["GET", "POST"])
@never_cache
def bare(request):
    """Answer with a few bytes: the cost of the stack without the engine."""
    return HttpResponse(f"ok {request.method} {request.user.pk}", content_type="text/plain")


urlpatterns = [path("bench/bare/", bare, name="bench-bare"), *app_urlpatterns]
