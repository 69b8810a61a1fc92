from __future__ import annotations

import json
from typing import Any, cast

from django import forms

from townsquare.core.errors import TownsquareError
from townsquare.sources.connectors import CONNECTORS, archive_kinds, connector_class
from townsquare.sources.models import Message, Source
from townsquare.sources.paths import path_confined

MAX_UPLOAD_BYTES = 2 * 1024**3


class SourceForm(forms.Form):
    name = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=Source.Kind.choices)
    config = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
        required=False,
        initial="{}",
        help_text='JSON settings, e.g. {"owner": "django", "repository": "django"} for GitHub, '
        '{"url": "https://forum.example.com"} for Discourse, {"path": "/data/export.zip"} for an archive. '
        "Every kind's settings are listed below the form; Slack, Gitter, Stack Exchange and groups.io take "
        'an "api_url" for a proxy, Slack Enterprise Grid or a self-hosted compatible server.',
    )
    secrets = forms.CharField(
        widget=forms.PasswordInput(render_value=False),
        required=False,
        help_text='An API token, or JSON such as {"token": "...", "api_username": "..."}. Stored encrypted; '
        "leave blank to keep the stored one.",
    )
    schedule = forms.CharField(
        max_length=100, required=False, help_text="Cron expression, e.g. 0 * * * * for hourly; empty = manual."
    )
    enabled = forms.BooleanField(required=False, initial=True)

    def clean_config(self) -> dict[str, Any]:
        raw = self.cleaned_data.get("config") or "{}"
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc}") from exc
        if not isinstance(value, dict):
            raise forms.ValidationError("Settings must be a JSON object.")
        if value.get("path"):
            try:
                path_confined(str(value["path"]), record=self.cleaned_data.get("name") or "this source")
            except TownsquareError as exc:
                raise forms.ValidationError(exc.message) from exc
        return value


def kind_settings() -> list[dict[str, Any]]:
    """For the source form's help: each kind's settings (``config`` keys) and secrets, from its connector."""
    labels = dict(Source.Kind.choices)
    rows = []
    for kind in CONNECTORS:
        connector = connector_class(kind)
        settings = dict(getattr(connector, "settings_help", {}) or {})
        if connector.is_archive and "path" not in settings:
            settings = {
                "path": "the archive under TOWNSQUARE_IMPORT_DIR on this server (or upload it instead)",
                **settings,
            }
        rows.append(
            {
                "kind": kind,
                "label": labels.get(kind, kind),
                "archive": connector.is_archive,
                "required": set(getattr(connector, "required", ())),
                "settings": settings,
                "secrets": getattr(connector, "secrets_help", ""),
            }
        )
    return rows


class UploadForm(forms.Form):
    kind = forms.ChoiceField(choices=[])
    name = forms.CharField(
        max_length=200, required=False, help_text="Source to import into; created if new. Defaults to the file name."
    )
    archive = forms.FileField(
        help_text="Slack export zip, Discord export (HTML/JSON/zip), IRC log, GitHub issues archive, "
        "Stack Exchange dump file, Pipermail .txt(.gz), Matrix JSON, Zulip .tar.gz ..."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        labels = dict(Source.Kind.choices)
        cast(forms.ChoiceField, self.fields["kind"]).choices = [(k, labels.get(k, k)) for k in archive_kinds()]

    def clean_archive(self) -> Any:
        upload = self.cleaned_data["archive"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("The archive is larger than 2 GiB: import it with `townsquare import` instead.")
        return upload


class MessageFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search")
    source = forms.ModelChoiceField(queryset=Source.objects.all(), required=False)
    kind = forms.ChoiceField(choices=[("", "Any kind"), *Message.Kind.choices], required=False)
