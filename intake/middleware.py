"""Requests too large for the intake URLs, refused before their body is read.

Placed before the middleware that read the body (the input check reads every
POST's fields, CSRF reads the form): a 30 MB upload to /leads/import/ or a
1 MB request to /api/intake/ is answered 413 from its Content-Length alone.
"""

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse

# A multipart body carries the file plus the form's other fields and
# boundaries: room for those on top of the file's own limit.
MULTIPART_ALLOWANCE = 64 * 1024


def content_length(request):
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def upload_too_large_message():
    limit = filesizeformat(settings.INTAKE_UPLOAD_MAX_BYTES)
    return (f"The file is too large: this page takes files of at most {limit} and "
            f"{settings.INTAKE_UPLOAD_MAX_ROWS:,} rows. Nothing was read or imported. Split "
            "the file, or import it with the import_leads command.")


class IntakeBodyLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method != "POST":
            return None
        size = content_length(request)
        if request.path_info == reverse("intake:api"):
            if size > settings.INTAKE_API_MAX_BODY_BYTES:
                limit = filesizeformat(settings.INTAKE_API_MAX_BODY_BYTES)
                return JsonResponse(
                    {"error": f"The request body is too large: at most {limit}."}, status=413
                )
        elif (request.path_info == reverse("intake:import")
              and size > settings.INTAKE_UPLOAD_MAX_BYTES + MULTIPART_ALLOWANCE):
            return render(request, "intake/too_large.html",
                          {"message": upload_too_large_message()}, status=413)
        return None
