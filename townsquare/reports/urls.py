from __future__ import annotations

from django.urls import path

from townsquare.reports import views

app_name = "reports"
urlpatterns = [
    path("", views.archive, name="index"),
    path("subscriptions/", views.subscriptions, name="subscriptions"),
    path("build/", views.build_week, name="build"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("feed/<slug:slug>/", views.feed, name="feed"),
    path("<int:pk>/", views.report_detail, name="report"),
    path("<int:pk>/items/<int:position>/", views.item_detail, name="item"),
    path("<int:pk>/pdf/", views.report_pdf, name="pdf"),
    path("<int:pk>/changes/", views.report_changes, name="changes"),
    path("<int:pk>/edit/", views.draft_edit, name="edit"),
    path("<int:pk>/publish/", views.draft_publish, name="publish"),
    path("<int:pk>/revise/", views.report_revise, name="revise"),
]
