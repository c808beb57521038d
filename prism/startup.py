"""Checks a serving process (web, worker, beat) makes before it starts."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.urls import get_resolver


def require_secret_key():
    if settings.SECRET_KEY_MISSING:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")


def load_views():
    """Import the URLconf, and with it every view and what they import (SciPy for the
    results fits, ReportLab, openpyxl, drf-spectacular): 2-4 s that the first request
    of each web process paid before, whatever page it asked for."""
    get_resolver().url_patterns  # noqa: B018 - the property imports the URLconf
