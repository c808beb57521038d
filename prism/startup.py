"""Checks a serving process (web, worker, beat) makes before it starts."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def require_secret_key():
    if settings.SECRET_KEY_MISSING:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
