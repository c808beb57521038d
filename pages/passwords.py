"""Changing and resetting a password: Django's views, and the API token replaced
with the password (core.accounts.rotate_api_token). A token survived a password
change before; whoever had the old password could keep using the API."""

from django.contrib import messages
from django.contrib.auth import views as auth_views

from core.accounts import rotate_api_token

ROTATED_NOTICE = (
    "Your API token was replaced because your password changed; scripts using the old one must use the new one."
)


class PasswordChangeView(auth_views.PasswordChangeView):
    def form_valid(self, form):
        response = super().form_valid(form)
        if rotate_api_token(form.user):
            messages.info(self.request, ROTATED_NOTICE)
        return response


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    def form_valid(self, form):
        response = super().form_valid(form)
        if rotate_api_token(form.user):
            messages.info(self.request, ROTATED_NOTICE)
        return response
