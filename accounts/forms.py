from functools import partial

from django.contrib.auth import forms as auth_forms
from django.contrib.sites.shortcuts import get_current_site

from accounts import background


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's form, but finding the address's users and mailing them
    happen after the response (accounts/background.py): the request does the
    same work whether or not the address is registered."""

    def save(self, *, request=None, domain_override=None, **options):
        if not domain_override:
            # What Django would derive from the request, taken now: the worker has no request.
            domain_override = get_current_site(request).domain
        background.submit(partial(
            super().save, request=None, domain_override=domain_override, **options
        ))
