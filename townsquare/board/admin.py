from __future__ import annotations

from django.contrib import admin

from townsquare.board.models import Announcement, BoardSettings, Collaborator, Kudos, Label, Task, TaskEvent


class CollaboratorInline(admin.TabularInline):
    model = Collaborator
    extra = 0
    raw_id_fields = ["user", "added_by"]


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ["title", "column", "owner", "visibility", "completions", "done_at"]
    list_filter = ["column", "visibility", "labels"]
    search_fields = ["title"]
    raw_id_fields = ["owner", "done_by", "created_by"]
    inlines = [CollaboratorInline]


@admin.register(Kudos)
class KudosAdmin(admin.ModelAdmin):
    list_display = ["kind", "user", "name", "team", "task", "created_at"]
    list_filter = ["kind", "team"]
    raw_id_fields = ["user", "given_by", "task", "collaborator"]


@admin.register(Announcement)
class AnnouncementAdmin(admin.ModelAdmin):
    list_display = ["headline", "task", "completion", "status", "destinations", "created_at"]
    list_filter = ["status"]
    raw_id_fields = ["task", "created_by", "decided_by"]


admin.site.register(Label)
admin.site.register(TaskEvent)
admin.site.register(BoardSettings)
