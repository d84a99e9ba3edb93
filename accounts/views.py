import math

from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import render
from django.utils import timezone


class LoginView(auth_views.LoginView):
    pass


def login_locked(request, lockout):
    """The login page saying that `lockout` refuses this attempt, and until
    when: HTTP 429 with Retry-After."""
    form = AuthenticationForm(request, initial={"username": request.POST.get("username", "")})
    next_url = request.POST.get("next") or request.GET.get("next", "")
    response = render(request, "registration/login.html", {
        "form": form, "next": next_url, "lockout": lockout,
    }, status=429)
    seconds = (lockout.until - timezone.now()).total_seconds()
    response["Retry-After"] = str(max(1, math.ceil(seconds)))
    return response
