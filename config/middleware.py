"""Project-wide request guards that belong to no app."""

from django.conf import settings
from django.shortcuts import render


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
