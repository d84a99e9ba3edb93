from django.urls import path

from whatsapp import views

app_name = "whatsapp"

urlpatterns = [
    path("<int:pk>/whatsapp/", views.picker, name="picker"),
]
