from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from townsquare.core.forms import LockoutAdminAuthenticationForm
from townsquare.core.lockout import login_unlock
from townsquare.core.models import LoginAttempt, Schedule

admin.site.login_form = LockoutAdminAuthenticationForm


@admin.register(Schedule)
class ScheduleAdmin(admin.ModelAdmin):
    list_display = ["name", "cron", "enabled", "next_run_at", "last_run_at"]
    readonly_fields = ["task_path", "next_run_at", "last_run_at", "last_result_id"]


@admin.register(LoginAttempt)
class LoginAttemptAdmin(admin.ModelAdmin):
    """The log of password checks; its actions unlock the selected attempts' usernames or addresses."""

    list_display = ["at", "username", "address", "outcome", "cleared"]
    list_filter = ["outcome", "cleared"]
    search_fields = ["username", "address"]
    actions = ["unlock_usernames", "unlock_addresses"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: LoginAttempt | None = None) -> bool:
        return False

    @admin.action(description="Unlock the selected attempts' usernames", permissions=["delete"])
    def unlock_usernames(self, request: HttpRequest, queryset: QuerySet[LoginAttempt]) -> None:
        cleared = login_unlock(usernames=queryset.values_list("username", flat=True))
        self.message_user(request, f"Unlocked: {cleared} failed login(s) no longer count.")

    @admin.action(description="Unlock the selected attempts' addresses", permissions=["delete"])
    def unlock_addresses(self, request: HttpRequest, queryset: QuerySet[LoginAttempt]) -> None:
        cleared = login_unlock(addresses=queryset.values_list("address", flat=True))
        self.message_user(request, f"Unlocked: {cleared} failed login(s) no longer count.")
