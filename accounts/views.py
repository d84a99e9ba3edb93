import math

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone

from accounts.forms import PasswordResetForm


def _login_context():
    return {"password_reset_enabled": settings.PASSWORD_RESET_ENABLED}


class LoginView(auth_views.LoginView):
    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **_login_context()}


def login_locked(request, lockout):
    """The login page saying that `lockout` refuses this attempt, and until
    when: HTTP 429 with Retry-After."""
    form = AuthenticationForm(request, initial={"username": request.POST.get("username", "")})
    next_url = request.POST.get("next") or request.GET.get("next", "")
    response = render(request, "registration/login.html", {
        "form": form, "next": next_url, "lockout": lockout, **_login_context(),
    }, status=429)
    seconds = (lockout.until - timezone.now()).total_seconds()
    response["Retry-After"] = str(max(1, math.ceil(seconds)))
    return response


class MailRequiredMixin:
    """The password-reset pages exist only while mail is configured
    (PASSWORD_RESET_ENABLED): without it the mail could not be sent."""

    def dispatch(self, request, *args, **kwargs):
        if not settings.PASSWORD_RESET_ENABLED:
            raise Http404("Password reset is not available: no mail is configured.")
        return super().dispatch(request, *args, **kwargs)


class PasswordResetView(MailRequiredMixin, auth_views.PasswordResetView):
    form_class = PasswordResetForm


class PasswordResetDoneView(MailRequiredMixin, auth_views.PasswordResetDoneView):
    pass


class PasswordResetConfirmView(MailRequiredMixin, auth_views.PasswordResetConfirmView):
    pass


class PasswordResetCompleteView(MailRequiredMixin, auth_views.PasswordResetCompleteView):
    pass
