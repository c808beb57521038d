"""Request-size limits, answered before anything reads the body.

Django caps a form body (DATA_UPLOAD_MAX_MEMORY_SIZE) with a bare HTML "Bad
Request" and does not cap uploaded files at all (54 MB and 150 MB uploads were
accepted). Here a body whose Content-Length is over the limit gets a 413 that says
the limit: settings.UPLOAD_MAX_BYTES for multipart uploads,
DATA_UPLOAD_MAX_MEMORY_SIZE for any other body. JSON under /api/ (the documented
error schema, {"detail": ...}), plain text elsewhere.

A body sent in chunks (Transfer-Encoding: chunked, no Content-Length; gunicorn
decodes the chunks) has no size to check up front: it is read here, at most one
byte past the limit, into a spooled file (memory up to FILE_UPLOAD_MAX_MEMORY_SIZE,
then disk), and answered 413 the moment it passes the limit. A body within the
limit reaches the view as if it had been sent with its Content-Length (Django
alone reads such a body as empty)."""

import tempfile

from django.conf import settings
from django.core.handlers.wsgi import LimitedStream
from django.http import HttpResponse, JsonResponse

CHUNK = 64 * 1024


def _size(size):
    return f"{size:,} bytes ({size / (1024 * 1024):,.1f} MB)"


def too_large(request, size, limit):
    """The 413 answer for a body of `size` bytes (None: sent in chunks, size unknown) over `limit`."""
    what = "An upload" if request.content_type.startswith("multipart/") else "A request body"
    this_one = f"this one is {_size(size)}" if size is not None else "this one, sent in chunks, is larger"
    message = f"{what} may be at most {_size(limit)}; {this_one}."
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=413)
    return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")


def is_chunked(request):
    encoding = request.META.get("HTTP_TRANSFER_ENCODING", "")
    return "chunked" in encoding.lower() and not request.META.get("CONTENT_LENGTH")


def read_chunked_body(request, limit):
    """The chunked body as a stream of known length, or None once it passes `limit`.
    Never holds more than limit + 1 bytes, and only FILE_UPLOAD_MAX_MEMORY_SIZE of
    them in memory."""
    source = request.META["wsgi.input"]
    body = tempfile.SpooledTemporaryFile(max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE)  # noqa: SIM115 — the request owns it
    read = 0
    while chunk := source.read(CHUNK if limit is None else min(CHUNK, limit + 1 - read)):
        read += len(chunk)
        if limit is not None and read > limit:
            body.close()
            return None
        body.write(chunk)
    body.seek(0)
    request.META["CONTENT_LENGTH"] = str(read)
    request._stream = LimitedStream(body, read)
    return body


class RequestSizeLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        multipart = request.content_type.startswith("multipart/")
        limit = settings.UPLOAD_MAX_BYTES if multipart else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if is_chunked(request):
            body = read_chunked_body(request, limit)
            if body is None:
                return too_large(request, None, limit)
            try:
                return self.get_response(request)
            finally:
                body.close()
        try:
            size = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            size = 0
        if limit is not None and size > limit:
            return too_large(request, size, limit)
        return self.get_response(request)
