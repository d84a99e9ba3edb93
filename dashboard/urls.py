from django.urls import path

from dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("dashboard/", views.index, name="index"),
    path("dashboard/data.json", views.data, name="data"),
    path("dashboard/cache/", views.cache_stats, name="cache_stats"),
]
