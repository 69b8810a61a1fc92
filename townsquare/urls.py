from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from townsquare.core import views as core_views

api_v1: list[URLPattern | URLResolver] = [
    path("me/", core_views.api_me, name="me"),
    path("notify/", include("townsquare.notify.api_urls")),
    path("people/", include("townsquare.people.api_urls")),
    path("listen/", include("townsquare.sources.api_urls")),
    path("intake/", include("townsquare.intake.api_urls")),
    path("board/", include("townsquare.board.api_urls")),
    path("feedback/", include("townsquare.feedback.api_urls")),
    path("reports/", include("townsquare.reports.api_urls")),
    path("value/", include("townsquare.metrics.api_urls")),
    path("updates/", include("townsquare.updates.api_urls")),
    path("value/", include("townsquare.value.api_urls")),
]

urlpatterns = [
    path("", core_views.root_redirect, name="root"),
    path("home/", include("townsquare.home.urls")),
    path("account/", core_views.account, name="account"),
    path("account/token/", core_views.account_token, name="account-token"),
    path("account/feed-token/", core_views.account_feed_token, name="account-feed-token"),
    path("logins/", core_views.login_log, name="login-log"),
    path("logins/unlock/", core_views.login_log_unlock, name="login-unlock"),
    path("healthz", core_views.healthz, name="healthz"),
    path(
        "login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("listen/", include("townsquare.sources.urls")),
    path("feedback/", include("townsquare.feedback.urls")),
    path("reports/", include("townsquare.reports.urls")),
    path("requests/", include("townsquare.intake.urls")),
    path("board/", include("townsquare.board.urls")),
    path("value/", include("townsquare.metrics.urls")),
    path("value/", include("townsquare.value.urls")),
    path("updates/", include("townsquare.updates.urls")),
    path("people/", include("townsquare.people.urls")),
    path("notifications/", include("townsquare.notify.urls")),
    path("api/v1/", include((api_v1, "api"))),
    # Token clients fetch the schema too; DRF's IsAuthenticated (SERVE_PERMISSIONS) guards it.
    path("api/schema/", login_not_required(SpectacularAPIView.as_view()), name="api-schema"),
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="core/api_docs.html"),
        name="api-docs",
    ),
    path("admin/", admin.site.urls),
]
