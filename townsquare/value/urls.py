from __future__ import annotations

from django.urls import path

from townsquare.value import views

# Mounted at /value/ beside the metrics app's pages; everything here lives under /value/quarters/.
app_name = "value"
urlpatterns = [
    path("quarters/", views.index, name="index"),
    path("quarters/<str:key>/goals/", views.goals, name="goals"),
    path("quarters/<str:key>/build/", views.build, name="build"),
    path("quarters/reports/<int:pk>/", views.report_detail, name="report"),
    path("quarters/reports/<int:pk>/compare/", views.report_compare, name="compare"),
    path("quarters/reports/<int:pk>/edit/", views.report_edit, name="edit"),
    path("quarters/reports/<int:pk>/publish/", views.report_publish, name="publish"),
    path("quarters/reports/<int:pk>/revise/", views.report_revise, name="revise"),
    path("quarters/reports/<int:pk>/report.pdf", views.report_pdf, name="pdf"),
    path("quarters/reports/<int:pk>/deck.pdf", views.report_deck, name="deck"),
]
