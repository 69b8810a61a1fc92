from __future__ import annotations

from django.urls import path

from townsquare.people import api

urlpatterns = [
    path("members/", api.MemberList.as_view(), name="member-list"),
    path("members/<int:pk>/", api.MemberDetail.as_view(), name="member-detail"),
    path("organizations/", api.OrganizationList.as_view(), name="organization-list"),
    path("accounts/", api.AccountList.as_view(), name="account-list"),
    path("merge-suggestions/", api.SuggestionList.as_view(), name="merge-suggestion-list"),
    path("merge-suggestions/<int:pk>/decision/", api.SuggestionDecide.as_view(), name="merge-suggestion-decide"),
]
