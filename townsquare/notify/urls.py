from __future__ import annotations

from django.urls import path

from townsquare.notify import views

app_name = "notify"
urlpatterns = [
    path("", views.outbox, name="outbox"),
    path("<int:pk>/", views.notification_detail, name="notification"),
    path("<int:pk>/retry/", views.notification_retry, name="retry"),
    path("<int:pk>/mark-sent/", views.notification_mark_sent, name="mark-sent"),
    path("destinations/", views.destinations, name="destinations"),
    path("destinations/new/", views.destination_edit, name="destination-new"),
    path("destinations/<int:pk>/", views.destination_detail, name="destination"),
    path("destinations/<int:pk>/test/", views.destination_test, name="destination-test"),
    path("destinations/<int:pk>/delete/", views.destination_delete, name="destination-delete"),
]
