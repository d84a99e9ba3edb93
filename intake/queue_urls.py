from django.urls import path

from intake import queue_views

app_name = "intake_queue"

urlpatterns = [
    path("", queue_views.unassigned, name="unassigned"),
]
