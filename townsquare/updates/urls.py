from __future__ import annotations

from django.urls import path

from townsquare.updates import newsletter_views, views

app_name = "updates"
urlpatterns = [
    path("", views.index, name="index"),
    path("audiences/new/", views.audience_edit, name="audience_new"),
    path("audiences/<int:pk>/", views.audience_detail, name="audience"),
    path("audiences/<int:pk>/edit/", views.audience_edit, name="audience_edit"),
    path("audiences/<int:pk>/build/", views.audience_build, name="audience_build"),
    path("<int:pk>/", views.update_detail, name="update"),
    path("<int:pk>/edit/", views.draft_edit, name="edit"),
    path("<int:pk>/send/", views.draft_send, name="send"),
    path("<int:pk>/revise/", views.update_revise, name="revise"),
    path("<int:pk>/ask/", views.ask, name="ask"),
    path("questions/<int:pk>/answer/", views.question_answer, name="answer"),
    path("questions/<int:pk>/convert/", views.question_convert, name="convert"),
    path("links/", newsletter_views.links_index, name="links"),
    path("links/slack/", newsletter_views.slack_command, name="links-slack"),
    path("newsletter/", newsletter_views.newsletter_index, name="newsletters"),
    path("newsletter/<int:pk>/", newsletter_views.newsletter_detail, name="newsletter"),
    path("newsletter/<int:pk>/sections/", newsletter_views.section_add, name="section-add"),
    path("newsletter/<int:pk>/sections/<int:section_pk>/", newsletter_views.section_edit, name="section-edit"),
    path("newsletter/<int:pk>/sections/<int:section_pk>/move/", newsletter_views.section_move, name="section-move"),
    path(
        "newsletter/<int:pk>/sections/<int:section_pk>/remove/",
        newsletter_views.section_remove,
        name="section-remove",
    ),
    path("newsletter/<int:pk>/review/", newsletter_views.review_request, name="review-request"),
    path("newsletter/<int:pk>/comments/", newsletter_views.review_comment, name="review-comment"),
    path("newsletter/<int:pk>/decision/", newsletter_views.review_decide, name="review-decide"),
    path(
        "newsletter/<int:pk>/comments/<int:comment_pk>/resolve/",
        newsletter_views.suggestion_resolve,
        name="suggestion-resolve",
    ),
    path("newsletter/<int:pk>/export/", newsletter_views.newsletter_export, name="newsletter-export"),
    path(
        "newsletter/<int:pk>/export.<str:fmt>",
        newsletter_views.newsletter_download,
        name="newsletter-download",
    ),
]
