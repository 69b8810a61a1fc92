from __future__ import annotations

from django.urls import path

from townsquare.updates import newsletter_api

urlpatterns = [
    path("links/", newsletter_api.LinkListCreate.as_view(), name="updates-link-list"),
    path("newsletters/", newsletter_api.NewsletterList.as_view(), name="updates-newsletter-list"),
    path("newsletters/<int:pk>/", newsletter_api.NewsletterDetail.as_view(), name="updates-newsletter"),
    path("newsletters/devrel-share/", newsletter_api.DevrelShare.as_view(), name="updates-devrel-share"),
]
