from django.urls import path

from timeline import views

app_name = "timeline"

urlpatterns = [
    path("<int:pk>/", views.lead_detail, name="lead"),
]
