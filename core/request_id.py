"""A request id on every log line, and structured (JSON) logs.

Each request gets an id (a client's valid `X-Request-ID`, else a new one), sent
back in the `X-Request-ID` header and put on every log record the request
causes (`RequestIdFilter`, via a context variable). A submission's tasks carry
it in their message headers (lines.submissions.publish), and the worker sets it
again before each task runs (prism/celery.py), so the logs of a deposit and of
its validation share one id. LOG_FORMAT=json writes one JSON object per line
(`JsonFormatter`) for a log collector."""

import contextvars
import json
import logging
import re
import uuid
from datetime import UTC, datetime

HEADER = "X-Request-ID"
VALID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

current_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")


def request_id() -> str:
    """The id of the request (or task) being served here, "" outside one."""
    return current_request_id.get()


def set_request_id(value: str | None) -> contextvars.Token:
    return current_request_id.set(value if value and VALID.match(value) else uuid.uuid4().hex)


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = set_request_id(request.headers.get(HEADER))
        try:
            response = self.get_response(request)
            response[HEADER] = request_id()
            return response
        finally:
            current_request_id.reset(token)


class RequestIdFilter(logging.Filter):
    def filter(self, record):
        record.request_id = request_id() or "-"
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record):
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)
