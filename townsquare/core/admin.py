from __future__ import annotations

from django.contrib import admin

from townsquare.core.models import Schedule


@admin.register(Schedule)
class ScheduleAdmin(admin.ModelAdmin):
    list_display = ["name", "cron", "enabled", "next_run_at", "last_run_at"]
    readonly_fields = ["task_path", "next_run_at", "last_run_at", "last_result_id"]
