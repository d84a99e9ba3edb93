"""The import pages under /leads/import/ (managers only)."""

import csv
from dataclasses import asdict

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from intake.errors import FileRefused
from intake.forms import ImportUploadForm
from intake.importing import ImportOptions, RevertRefused, dry_run, revert_batch, run_import
from intake.middleware import upload_too_large_message
from intake.models import EntryState, ImportBatch, ProblemKind
from intake.uploads import remove_upload, save_upload, upload_path
from leads.csv_export import CSV_CONTENT_TYPE, UTF8_BOM, neutralize_cell
from leads.models import Lead
from leads.permissions import user_sees_all_leads

SESSION_KEY = "intake_uploads"
# Uploads a session remembers (previews not imported yet).
SESSION_UPLOADS = 5
SHOWN_PROBLEMS = 200
SHOWN_LEADS = 50
RECENT_BATCHES = 20


def _require_manager(request):
    if not user_sees_all_leads(request.user):
        raise PermissionDenied("Only managers can import leads.")


def _start_page(request, form, *, status=200):
    batches = ImportBatch.objects.select_related("created_by").order_by("-created_at")
    return render(request, "intake/import.html", {
        "form": form, "batches": batches[:RECENT_BATCHES],
        "max_bytes": settings.INTAKE_UPLOAD_MAX_BYTES, "max_rows": settings.INTAKE_UPLOAD_MAX_ROWS,
    }, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def import_start(request):
    """The upload form (GET); the dry run's preview of an upload (POST)."""
    _require_manager(request)
    if request.method == "GET":
        return _start_page(request, ImportUploadForm())
    form = ImportUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _start_page(request, form, status=400)
    upload = form.cleaned_data["file"]
    if upload.size > settings.INTAKE_UPLOAD_MAX_BYTES:
        form.add_error("file", upload_too_large_message())
        return _start_page(request, form, status=413)
    options = ImportOptions(
        source=form.cleaned_data["source"], assign=form.assign_option(),
        users=[user.get_username() for user in form.cleaned_data["users"]],
        duplicates=form.cleaned_data["duplicates"], sheet=form.cleaned_data["sheet"].strip(),
    )
    try:
        token = save_upload(upload)
    except FileRefused as exc:
        form.add_error("file", exc.message)
        return _start_page(request, form, status=413)
    try:
        report = dry_run(upload_path(token, upload.name), file_name=upload.name,
                         options=options, max_rows=settings.INTAKE_UPLOAD_MAX_ROWS)
    except FileRefused as exc:
        remove_upload(token, upload.name)
        form.add_error("file", exc.message)
        return _start_page(request, form, status=400)
    uploads = request.session.get(SESSION_KEY, {})
    uploads[token] = {"file_name": upload.name, "options": asdict(options)}
    request.session[SESSION_KEY] = dict(list(uploads.items())[-SESSION_UPLOADS:])
    return render(request, "intake/preview.html", {"report": report, "token": token,
                                                   "options": options})


@login_required
@require_POST
def import_run(request):
    """Import an upload previewed in this session."""
    _require_manager(request)
    token = request.POST.get("token", "")
    pending = request.session.get(SESSION_KEY, {}).get(token)
    path = pending and upload_path(token, pending["file_name"])
    if not path:
        messages.error(request, "That upload is no longer here (imported already, or older "
                                "than a day): upload the file again.")
        return redirect("intake:import")
    try:
        batch = run_import(path, file_name=pending["file_name"],
                           options=ImportOptions(**pending["options"]), by_user=request.user,
                           max_rows=settings.INTAKE_UPLOAD_MAX_ROWS)
    except FileRefused as exc:
        # Kept for another try when only the timing was wrong (another import running).
        messages.error(request, exc.message)
        return redirect("intake:import")
    remove_upload(token, pending["file_name"])
    uploads = request.session.get(SESSION_KEY, {})
    uploads.pop(token, None)
    request.session[SESSION_KEY] = uploads
    messages.success(request, f"Imported {batch.file_name}.")
    return redirect("intake:batch", pk=batch.pk)


def _batch_or_404(pk):
    batch = ImportBatch.objects.select_related("created_by", "reverted_by").filter(pk=pk).first()
    if batch is None:
        raise Http404("There is no import with this number.")
    return batch


@login_required
@require_GET
def batch_detail(request, pk):
    _require_manager(request)
    batch = _batch_or_404(pk)
    problems = batch.problems.order_by("row_number", "pk")
    leads = (Lead.objects.filter(intake_entries__batch=batch).select_related("creator")
             .order_by("pk"))
    return render(request, "intake/batch.html", {
        "batch": batch,
        "failed": problems.filter(kind=ProblemKind.FAILED)[:SHOWN_PROBLEMS],
        "skipped": problems.filter(kind=ProblemKind.SKIPPED)[:SHOWN_PROBLEMS],
        "shown_problems": SHOWN_PROBLEMS,
        "leads": leads[:SHOWN_LEADS], "shown_leads": SHOWN_LEADS,
        "waiting": batch.entries.filter(state=EntryState.WAITING).count(),
    })


class _Echo:
    def write(self, value):
        return value


def _failed_rows(batch):
    writer = csv.writer(_Echo())
    header = batch.options.get("header") or []
    yield UTF8_BOM + writer.writerow([*map(neutralize_cell, header), "error"])
    rows = batch.problems.filter(kind=ProblemKind.FAILED).order_by("row_number", "pk")
    current, cells, errors = None, [], []
    for problem in rows.iterator(chunk_size=2000):
        if problem.row_number != current and current is not None:
            yield writer.writerow([*map(neutralize_cell, cells), neutralize_cell(" ".join(errors))])
            errors = []
        current, cells = problem.row_number, problem.cells
        column = f"{problem.column}: " if problem.column else ""
        errors.append(f"Row {problem.row_number}, {column}{problem.message}")
    if current is not None:
        yield writer.writerow([*map(neutralize_cell, cells), neutralize_cell(" ".join(errors))])


@login_required
@require_GET
def batch_failed_csv(request, pk):
    """The failed rows as they came, with an error column: fix and upload again."""
    _require_manager(request)
    batch = _batch_or_404(pk)
    response = StreamingHttpResponse(_failed_rows(batch), content_type=CSV_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="import-{batch.pk}-failed-rows.csv"'
    return response


@login_required
@require_POST
def batch_revert(request, pk):
    _require_manager(request)
    batch = _batch_or_404(pk)
    try:
        result = revert_batch(batch, by_user=request.user)
    except RevertRefused as exc:
        messages.error(request, str(exc))
        return redirect("intake:batch", pk=batch.pk)
    text = (f"Import {batch.pk} reverted: {result.deleted_leads} lead(s) and "
            f"{result.deleted_entries} queue entr(y/ies) removed.")
    if result.kept_leads:
        text += (f" {len(result.kept_leads)} lead(s) were worked since and were left alone "
                 "(listed below).")
    messages.success(request, text)
    return redirect("intake:batch", pk=batch.pk)
