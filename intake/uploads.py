"""Uploaded files waiting between their preview and their import, in
INTAKE_UPLOAD_DIR, named by a random token (never by the sender's name)."""

import re
import secrets
import time
from pathlib import Path

from django.conf import settings
from django.template.defaultfilters import filesizeformat

from intake.errors import FileRefused

# Files nobody imported within this time are removed at the next upload.
KEEP_SECONDS = 24 * 3600
_TOKEN = re.compile(r"[0-9a-f]{32}")


def _directory():
    directory = Path(settings.INTAKE_UPLOAD_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _suffix(file_name):
    suffix = Path(file_name).suffix.lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,5}", suffix) else ".upload"


def save_upload(uploaded):
    """Store `uploaded` (a Django UploadedFile); return its token. FileRefused
    when it is larger than the page's limit."""
    directory = _directory()
    _remove_old(directory)
    token = secrets.token_hex(16)
    path = directory / f"{token}{_suffix(uploaded.name)}"
    written = 0
    with open(path, "wb") as out:
        for chunk in uploaded.chunks():
            written += len(chunk)
            if written > settings.INTAKE_UPLOAD_MAX_BYTES:
                out.close()
                path.unlink(missing_ok=True)
                raise FileRefused(
                    f"The file is too large: at most "
                    f"{filesizeformat(settings.INTAKE_UPLOAD_MAX_BYTES)} are taken here. "
                    "Nothing was imported. Split it, or use the import_leads command."
                )
            out.write(chunk)
    return token


def upload_path(token, file_name):
    """The stored file of `token`, or None when it is gone (imported, expired)."""
    if not isinstance(token, str) or not _TOKEN.fullmatch(token):
        return None
    path = Path(settings.INTAKE_UPLOAD_DIR) / f"{token}{_suffix(file_name)}"
    return path if path.is_file() else None


def remove_upload(token, file_name):
    path = upload_path(token, file_name)
    if path is not None:
        path.unlink(missing_ok=True)


def _remove_old(directory):
    cutoff = time.time() - KEEP_SECONDS
    for path in directory.iterdir():
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:
            continue  # another process removed it first
