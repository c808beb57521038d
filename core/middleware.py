"""Request-size limits, answered before anything reads the body.

Django caps a form body (DATA_UPLOAD_MAX_MEMORY_SIZE) with a bare HTML "Bad
Request" and does not cap uploaded files at all (54 MB and 150 MB uploads were
accepted). Here a body whose Content-Length is over the limit gets a 413 that says
the limit: settings.UPLOAD_MAX_BYTES for multipart uploads,
DATA_UPLOAD_MAX_MEMORY_SIZE for any other body. JSON under /api/ (the documented
error schema, {"detail": ...}), plain text elsewhere."""

from django.conf import settings
from django.http import HttpResponse, JsonResponse


def _size(size):
    return f"{size:,} bytes ({size / (1024 * 1024):,.1f} MB)"


def too_large(request, size, limit):
    """The 413 answer for a body of `size` bytes over `limit`."""
    what = "An upload" if request.content_type.startswith("multipart/") else "A request body"
    message = f"{what} may be at most {_size(limit)}; this one is {_size(size)}."
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=413)
    return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")


class RequestSizeLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            size = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            size = 0
        multipart = request.content_type.startswith("multipart/")
        limit = settings.UPLOAD_MAX_BYTES if multipart else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and size > limit:
            return too_large(request, size, limit)
        return self.get_response(request)
