from django.urls import path

from leads import manager_views, views

app_name = "leads"

urlpatterns = [
    path("", views.lead_list, name="list"),
    path("new/", views.lead_create, name="create"),
    path("hand-over/", manager_views.hand_over, name="hand_over"),
    path("reschedule/", manager_views.reschedule, name="reschedule"),
    path("<int:pk>/edit/", views.lead_edit, name="edit"),
    path("<int:pk>/correct/", views.lead_correct, name="correct"),
    path("<int:pk>/quick-update/", views.lead_quick_update, name="quick_update"),
]
