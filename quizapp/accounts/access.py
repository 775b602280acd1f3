"""Role checks shared by every app's views."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404


def instructor_required(view):
    """Logged in (else the login page) and an instructor or staff (else 404: the page does not exist for them)."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not (request.user.is_instructor or request.user.is_staff):
            raise Http404("No such page.")
        return view(request, *args, **kwargs)

    return wrapper
