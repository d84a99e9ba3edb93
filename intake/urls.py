from django.urls import path

from intake import api, views

app_name = "intake"

urlpatterns = [
    path("leads/import/", views.import_start, name="import"),
    path("leads/import/run/", views.import_run, name="import_run"),
    path("leads/import/<int:pk>/", views.batch_detail, name="batch"),
    path("leads/import/<int:pk>/failed.csv", views.batch_failed_csv, name="batch_failed_csv"),
    path("leads/import/<int:pk>/revert/", views.batch_revert, name="batch_revert"),
    path("api/intake/", api.intake_api, name="api"),
]
