"""Conventions every /api/v1/ endpoint shares: authentication order, keyset (cursor)
pagination with a page-size limit, rejection of unknown query parameters, a fast
JSON renderer, and error responses documented in the OpenAPI schema.

Errors: 400 bodies are an object whose keys name the offending query parameter
or field, each with a list of messages ({"page_size": ["At most 500."]}); 401,
403, 404, 405 and 429 bodies are {"detail": "..."}.
"""

import base64
import binascii
import json
import re
from decimal import Decimal
from urllib.parse import urlencode

import orjson
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import F, Q
from django.http import JsonResponse
from django.utils.encoding import force_str
from django.views.defaults import bad_request as default_bad_request
from django.views.defaults import page_not_found
from django.views.defaults import permission_denied as default_permission_denied
from django.views.defaults import server_error as default_server_error
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.openapi import AutoSchema
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication
from rest_framework.pagination import BasePagination
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response

from core.lockout import ThrottledTokenAuthentication

# Token first: an anonymous or badly authenticated client gets 401 with
# `WWW-Authenticate: Token` (DRF takes the header from the first class), not a bare 403.
# Bad tokens are counted per address and throttled (core.lockout).
AUTHENTICATION_CLASSES = [ThrottledTokenAuthentication, SessionAuthentication]

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
# Parameters every list endpoint understands besides its filters.
PAGINATION_PARAMS = frozenset({"cursor", "page_size", "ordering"})
# `format` is DRF's renderer override (?format=json / ?format=api).
COMMON_PARAMS = frozenset({"format"})


def bad_parameter(name, message):
    return exceptions.ValidationError({name: [message]})


def reject_unknown_params(request, allowed):
    """400 naming the first query parameter the endpoint does not know."""
    unknown = sorted(set(request.query_params) - set(allowed) - COMMON_PARAMS)
    if unknown:
        raise exceptions.ValidationError(
            {name: [f"Unknown query parameter. Allowed: {', '.join(sorted(allowed))}."] for name in unknown}
        )


def parse_bool_param(request, name, default=False):
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    value = raw.lower()
    if value in ("1", "true", "yes"):
        return True
    if value in ("0", "false", "no"):
        return False
    raise bad_parameter(name, f"'{raw}' is not a boolean: use true or false.")


class StrictDjangoFilterBackend(DjangoFilterBackend):
    """django-filter, with unknown query parameters refused (400 naming them). Known:
    the view's filters, pagination parameters when it paginates, `ordering` when it
    orders, and the view's `extra_query_params`."""

    @staticmethod
    def allowed_params(view):
        filterset_class = getattr(view, "filterset_class", None)
        names = set(filterset_class.base_filters) if filterset_class else set()
        if getattr(view, "pagination_class", None):
            names |= PAGINATION_PARAMS
        elif getattr(view, "ordering_fields", None):
            names.add("ordering")
        return names | set(getattr(view, "extra_query_params", ()))

    def filter_queryset(self, request, queryset, view):
        reject_unknown_params(request, self.allowed_params(view))
        return super().filter_queryset(request, queryset, view)


class OrjsonRenderer(JSONRenderer):
    """JSON through orjson: several times faster than json.dumps on list pages."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        # Non-string keys occur in DRF's errors for list items ({"lines": {0: [...]}}).
        return orjson.dumps(data, default=_orjson_default, option=orjson.OPT_NON_STR_KEYS)


def _orjson_default(value):
    # Decimal, lazy translation strings and DRF's ErrorDetail.
    if isinstance(value, Decimal):
        return float(value)
    return force_str(value)


RENDERER_CLASSES = [OrjsonRenderer, BrowsableAPIRenderer]


class KeysetPagination(BasePagination):
    """Cursor pagination on any whitelisted ordering, with no COUNT(*).

    The view names its orderings in `ordering_fields` ({"name": "name",
    "released_at": "released_at", ...}), its default in `default_ordering`
    (e.g. ("name",)), and a unique field that ends every ordering as a tie-break
    (`ordering_tiebreak`, default "pk"). The cursor is the last row's ordering
    values, so a page is an index range scan however deep it is, and rows added
    or removed between pages never repeat or skip others. Nulls sort last.
    """

    page_size_query_param = "page_size"
    cursor_query_param = "cursor"
    ordering_query_param = "ordering"
    default_page_size = DEFAULT_PAGE_SIZE
    max_page_size = MAX_PAGE_SIZE

    def __init__(self):
        self.next_cursor = self.previous_cursor = None

    # -- parsing -------------------------------------------------------------
    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw in (None, ""):
            return self.default_page_size
        try:
            size = int(raw)
        except ValueError:
            raise bad_parameter(self.page_size_query_param, f"'{raw}' is not a whole number.") from None
        if size < 1 or size > self.max_page_size:
            raise bad_parameter(
                self.page_size_query_param,
                f"Must be between 1 and {self.max_page_size}; got {size}.",
            )
        return size

    def get_ordering(self, request, view):
        """[(field path, descending)], ending with the unique tie-break."""
        allowed = getattr(view, "ordering_fields", {"id": "pk"})
        raw = request.query_params.get(self.ordering_query_param)
        names = [n.strip() for n in raw.split(",") if n.strip()] if raw else list(view.default_ordering)
        if not names:
            names = list(view.default_ordering)
        keys, seen = [], set()
        for name in names:
            descending = name.startswith("-")
            bare = name.lstrip("-")
            if bare not in allowed:
                raise bad_parameter(
                    self.ordering_query_param,
                    f"Cannot order by '{bare}'. Choose from: {', '.join(sorted(allowed))} (prefix - to reverse).",
                )
            if bare in seen:
                continue
            seen.add(bare)
            keys.append((allowed[bare], descending))
        tiebreak = getattr(view, "ordering_tiebreak", "pk")
        unique = set(getattr(view, "ordering_unique", ())) | {tiebreak}
        if keys[-1][0] not in unique:
            keys.append((tiebreak, keys[0][1]))
        return keys

    def decode_cursor(self, request):
        raw = request.query_params.get(self.cursor_query_param)
        if not raw:
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(raw.encode("ascii") + b"=" * (-len(raw) % 4)))
            direction, values = data["d"], data["v"]
            if direction not in ("n", "p") or not isinstance(values, list):
                raise ValueError
        except (ValueError, KeyError, TypeError, UnicodeError, binascii.Error):
            raise bad_parameter(
                self.cursor_query_param, "Invalid cursor: use the next/previous links as given."
            ) from None
        return direction, values

    @staticmethod
    def encode_cursor(direction, values):
        payload = json.dumps({"d": direction, "v": values}, separators=(",", ":"), default=str)
        return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")

    # -- the page --------------------------------------------------------------
    def paginate_queryset(self, queryset, request, view=None, ranked=None):
        """The page of `queryset` (values() rows, or instances) in the requested order
        past the cursor. `ranked(keys, after, limit)`, where given, may answer instead
        of the ORDER BY: the primary keys of the next `limit` rows in the order the
        query would return them (`after`: None, or (backwards, the cursor's values)),
        or None where it cannot; those rows are then read by primary key."""
        self.request, self.view = request, view
        self.page_size = self.get_page_size(request)
        keys = self.get_ordering(request, view)
        self.fields = [resolve_field(queryset.model, path) for path, _ in keys]
        cursor = self.decode_cursor(request)
        backwards = cursor is not None and cursor[0] == "p"

        python_values = None
        if cursor is not None:
            values = cursor[1]
            if len(values) != len(keys):
                raise bad_parameter(self.cursor_query_param, "Cursor does not fit this ordering; start again.")
            try:
                python_values = [
                    None if v is None else field.to_python(v) for v, field in zip(values, self.fields, strict=True)
                ]
            except (DjangoValidationError, ValueError, TypeError):
                raise bad_parameter(self.cursor_query_param, "Invalid cursor: use the links as given.") from None

        rows = self._ranked_rows(queryset, ranked, keys, backwards, python_values) if ranked is not None else None
        if rows is None:
            queryset = queryset.order_by(*keyset_order(keys, self.fields, backwards))
            if python_values is not None:
                queryset = queryset.filter(_after(keys, self.fields, python_values, backwards))
            rows = list(queryset[: self.page_size + 1])
        more = len(rows) > self.page_size
        rows = rows[: self.page_size]
        if backwards:
            rows.reverse()
        self.keys = keys
        if rows:
            first, last = self._values(rows[0], keys), self._values(rows[-1], keys)
            has_next = more if not backwards else True
            has_previous = (cursor is not None) if not backwards else more
            self.next_cursor = self.encode_cursor("n", last) if has_next else None
            self.previous_cursor = self.encode_cursor("p", first) if has_previous else None
        elif cursor is not None:
            # Past either end: offer the way back.
            self.previous_cursor = self.encode_cursor("p", cursor[1]) if not backwards else None
            self.next_cursor = self.encode_cursor("n", cursor[1]) if backwards else None
        return rows

    def _ranked_rows(self, queryset, ranked, keys, backwards, python_values):
        ids = ranked(keys, None if python_values is None else (backwards, python_values), self.page_size + 1)
        if ids is None:
            return None
        by_pk = {row["pk"] if isinstance(row, dict) else row.pk: row for row in queryset.filter(pk__in=ids)}
        if len(by_pk) != len(ids):
            return None  # a row changed or went since the ranking was made: ask the query
        return [by_pk[pk] for pk in ids]

    def _values(self, row, keys):
        values = []
        for path, _ in keys:
            if isinstance(row, dict):
                value = row[path]
                values.append(value.isoformat() if hasattr(value, "isoformat") else value)
                continue
            value = row
            for part in path.split("__"):
                value = getattr(value, "pk" if part == "pk" else part, None) if value is not None else None
            values.append(value.isoformat() if hasattr(value, "isoformat") else value)
        return values

    def _link(self, cursor):
        if cursor is None:
            return None
        params = self.request.query_params.copy()
        params[self.cursor_query_param] = cursor
        return self.request.build_absolute_uri(self.request.path) + "?" + urlencode(params, doseq=True)

    def get_next_link(self):
        return self._link(self.next_cursor)

    def get_previous_link(self):
        return self._link(self.previous_cursor)

    def get_paginated_response(self, data, extra=None):
        body = {"next": self.get_next_link(), "previous": self.get_previous_link(), "results": data}
        if extra:
            body.update(extra)
        return Response(body)

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {
                "next": {
                    "type": "string",
                    "format": "uri",
                    "nullable": True,
                    "description": "The next page, or null on the last page.",
                },
                "previous": {"type": "string", "format": "uri", "nullable": True},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        orderings = sorted(getattr(view, "ordering_fields", {"id": "pk"}))
        return [
            {
                "name": self.cursor_query_param,
                "in": "query",
                "required": False,
                "description": "Opaque position from a `next` or `previous` link.",
                "schema": {"type": "string", "maxLength": 2000},
            },
            {
                "name": self.page_size_query_param,
                "in": "query",
                "required": False,
                "description": f"Items per page, 1 to {self.max_page_size} (default {self.default_page_size}); "
                "more is a 400.",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
            {
                "name": self.ordering_query_param,
                "in": "query",
                "required": False,
                "description": "Comma-separated sort keys, `-` to reverse. One of: "
                + ", ".join(orderings)
                + f". Default: {','.join(getattr(view, 'default_ordering', ['id']))}.",
                # The keys the view accepts, and nothing else, so a schema-valid request is never refused.
                "schema": {"type": "string", "maxLength": 200, "pattern": ordering_pattern(orderings)},
            },
        ]


def ordering_pattern(names) -> str:
    """`ordering` as the pagination accepts it: comma-separated known keys, `-` to reverse."""
    key = "-?(?:" + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)) + ")"
    return f"^{key}(?:,{key})*$"


def keyset_order(keys, fields, backwards=False):
    """The ORDER BY of KeysetPagination for `keys` [(path, descending)] on `fields`
    (reversed when reading backwards from a cursor). Nulls last."""
    order = []
    for (path, descending), field in zip(keys, fields, strict=True):
        desc = descending != backwards
        # Nulls placement only where nulls exist: on a NOT NULL column an explicit
        # NULLS LAST/FIRST would stop PostgreSQL from reading the index backwards.
        nulls = {"nulls_last": True} if not backwards else {"nulls_first": True}
        if not field.null:
            nulls = {}
        order.append(F(path).desc(**nulls) if desc else F(path).asc(**nulls))
    return order


def resolve_field(model, path):
    """The model field at the end of a lookup path ("donor__age_at_sampling")."""
    field = None
    for part in path.split("__"):
        field = model._meta.pk if part == "pk" else model._meta.get_field(part)
        if field.is_relation:
            model = field.related_model
    return field


def _strictly_after(path, field, value, descending, nulls_last):
    if value is None:
        # Nulls come last: nothing non-null is after them; first: everything is.
        return Q(pk__in=[]) if nulls_last else Q(**{f"{path}__isnull": False})
    q = Q(**{f"{path}__{'lt' if descending else 'gt'}": value})
    if nulls_last and field.null:
        q |= Q(**{f"{path}__isnull": True})
    return q


def _equal(path, value):
    return Q(**{f"{path}__isnull": True}) if value is None else Q(**{path: value})


def _after(keys, fields, values, backwards):
    """Rows strictly after `values` in the (possibly reversed) ordering."""
    q = None
    for index in range(len(keys) - 1, -1, -1):
        path, descending = keys[index]
        desc = descending != backwards
        step = _strictly_after(path, fields[index], values[index], desc, nulls_last=not backwards)
        q = step if q is None else step | (_equal(path, values[index]) & q)
    return q


# -- OpenAPI ---------------------------------------------------------------------
_DETAIL = {
    "type": "object",
    "required": ["detail"],
    "properties": {"detail": {"type": "string"}},
}
_BAD_INPUT = {
    "description": "Bad input: each key names the query parameter or field at fault, with a list of messages.",
    "content": {
        "application/json": {
            "schema": {
                "anyOf": [
                    {"type": "object", "additionalProperties": {}},
                    {"type": "array", "items": {"type": "string"}},
                ],
                "example": {"page_size": ["Must be between 1 and 500; got 1000."]},
            }
        }
    },
}
STANDARD_ERRORS = {
    "400": _BAD_INPUT,
    "401": {
        "description": "Credentials were given but are invalid, or are needed for this method "
        "(send `Authorization: Token <key>`).",
        "content": {"application/json": {"schema": _DETAIL}},
    },
    "403": {
        "description": "Authenticated, but this role may not do this.",
        "content": {"application/json": {"schema": _DETAIL}},
    },
    "404": {
        "description": "Not found, or not visible to you.",
        "content": {"application/json": {"schema": _DETAIL}},
    },
    "405": {
        "description": "Method not allowed on this resource.",
        "content": {"application/json": {"schema": _DETAIL}},
    },
    "429": {
        "description": "Too many requests: throttled per user, or per address when anonymous. "
        "`Retry-After` says when to try again.",
        "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}},
        "content": {"application/json": {"schema": _DETAIL}},
    },
}


class PrismAutoSchema(AutoSchema):
    """drf-spectacular's schema with the standard error responses added to every operation."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction == "response":
            for code, response in STANDARD_ERRORS.items():
                if code == "404" and "{" not in self.path:
                    continue
                responses.setdefault(code, response)
        return responses


class StandardErrorsMixin:
    """For views whose errors follow these conventions (kept for explicitness)."""

    authentication_classes = AUTHENTICATION_CLASSES
    renderer_classes = RENDERER_CLASSES


# -- errors outside DRF views ------------------------------------------------------
def _is_api(request):
    return request.path.startswith("/api/")


def not_found(request, exception=None):
    """404 for a URL no route matches (e.g. /api/v1/requests/abc/ on an <int:id> route):
    JSON under /api/, as every other API error is; the normal page elsewhere."""
    if _is_api(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return page_not_found(request, exception)


def bad_request(request, exception=None):
    """Django's own 400s (a disallowed Host, too many form fields, an oversized body
    read without a length): JSON under /api/, the normal page elsewhere."""
    if _is_api(request):
        return JsonResponse({"detail": "Bad request: the request could not be read."}, status=400)
    return default_bad_request(request, exception)


def permission_denied(request, exception=None):
    if _is_api(request):
        return JsonResponse({"detail": str(exception or "") or "You may not do this."}, status=403)
    return default_permission_denied(request, exception)


def server_error(request):
    if _is_api(request):
        return JsonResponse({"detail": "Server error. It has been logged; please try again later."}, status=500)
    return default_server_error(request)
