from __future__ import annotations

import json
from typing import Any, cast

from croniter import croniter
from django import forms
from django.urls import reverse

from townsquare.sources.connectors import CONNECTORS, archive_kinds, connector_class
from townsquare.sources.connectors.base import parse_secrets
from townsquare.sources.kind_fields import (
    BOOL_KEYS,
    SECRETS,
    URL_OR_PATH,
    clean_path,
    kind_settings_spec,
    setting_field,
    setting_initial,
)
from townsquare.sources.models import Message, Source

MAX_UPLOAD_BYTES = 2 * 1024**3


SCHEDULES = [
    ("", "Manually: only when someone presses Sync now"),
    ("hourly", "Every hour"),
    ("daily", "Every day"),
    ("weekly", "Every week"),
    ("cron", "On a custom schedule (cron expression)"),
]
PRESET_CRON = {"hourly": "0 * * * *", "daily": "0 6 * * *", "weekly": "0 6 * * 1"}
KEEP = "stored: leave blank to keep it"


def kind_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """The kinds, grouped: read live through an API, or imported from an archive."""
    labels = dict(Source.Kind.choices)
    archives = set(archive_kinds())
    live = [(k, labels[k]) for k in Source.Kind.values if k not in archives]
    files = [(k, labels[k]) for k in Source.Kind.values if k in archives]
    return [("Read live through an API", live), ("Imported from archives or files", files)]


class KindChoiceForm(forms.Form):
    """The first step of adding a source; with HTMX, picking a kind swaps in its fields at once."""

    kind = forms.ChoiceField(label="Kind of source")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ChoiceField, self.fields["kind"])
        field.choices = [("", "Choose…"), *kind_choices()]
        field.widget.attrs.update(
            {
                "hx-get": reverse("sources:source-add"),
                "hx-trigger": "change",
                "hx-target": "#source-setup",
                "hx-swap": "outerHTML",
                "hx-push-url": "true",
            }
        )


class SourceForm(forms.Form):
    """One kind's set-up: its named settings and secrets, a schedule, never a JSON box.

    ``config_for`` and ``secrets_for`` merge what was typed into what the source stores: settings the form
    does not show (set through the API) are kept, and a secret left blank keeps the stored one.
    """

    name = forms.CharField(max_length=200, help_text="How this source is named in Townsquare, e.g. Acme Discord.")
    kind = forms.ChoiceField(choices=Source.Kind.choices, widget=forms.HiddenInput)

    def __init__(self, *args: Any, kind: str, source: Source | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.source_kind, self.source = kind, source
        self.specs = kind_settings_spec(kind)
        stored_config = dict(source.config or {}) if source else {}
        self.initial.setdefault("kind", kind)
        for spec in self.specs:
            self.fields[spec.key] = setting_field(kind, spec)
            if spec.key in stored_config:
                self.initial[spec.key] = setting_initial(spec, stored_config[spec.key])
        stored = _stored_secrets(source)
        self.secret_keys = []
        for key, label, needed, help_text in SECRETS.get(kind, []):
            name = f"secret_{key}"
            self.secret_keys.append(key)
            self.fields[name] = forms.CharField(
                label=label,
                required=needed and not stored.get(key),
                max_length=2000,
                widget=forms.PasswordInput(
                    render_value=False,
                    attrs={"autocomplete": "new-password", **({"placeholder": KEEP} if stored.get(key) else {})},
                ),
                help_text=f"{help_text} Stored encrypted, never shown again.",
            )
        self.fields["schedule_every"] = forms.ChoiceField(
            label="Sync", choices=SCHEDULES, required=False, widget=forms.RadioSelect
        )
        self.fields["schedule_cron"] = forms.CharField(
            label="Cron expression",
            max_length=100,
            required=False,
            help_text="Minute, hour, day of month, month, day of week, in the server's time zone: "
            "30 8 * * 1-5 syncs at 8:30 on weekdays.",
        )
        self.fields["enabled"] = forms.BooleanField(
            required=False, initial=True, help_text="Disabled sources are not synced on their schedule."
        )
        if source is not None:
            self.initial.update({"name": source.name, "enabled": source.enabled})
            preset = next((name for name, cron in PRESET_CRON.items() if cron == source.schedule), None)
            if preset:
                self.initial["schedule_every"] = preset
            elif source.schedule:
                self.initial.update({"schedule_every": "cron", "schedule_cron": source.schedule})
        self.initial.setdefault("schedule_every", "")

    def _fields(self, names: list[str]) -> list[forms.BoundField]:
        return [self[name] for name in names]

    @property
    def setting_fields(self) -> list[forms.BoundField]:
        return self._fields([s.key for s in self.specs if not s.advanced])

    @property
    def advanced_fields(self) -> list[forms.BoundField]:
        return self._fields([s.key for s in self.specs if s.advanced])

    @property
    def secret_fields(self) -> list[forms.BoundField]:
        return self._fields([f"secret_{key}" for key in self.secret_keys])

    @property
    def is_archive(self) -> bool:
        return connector_class(self.source_kind).is_archive

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        others = Source.objects.filter(name=name)
        if self.source is not None:
            others = others.exclude(pk=self.source.pk)
        if others.exists():
            raise forms.ValidationError(f"A source named {name!r} exists already: pick another name.")
        return name

    def clean_kind(self) -> str:
        if self.cleaned_data.get("kind") != self.source_kind:
            raise forms.ValidationError("The kind of a source cannot change: add a new source instead.")
        return self.source_kind

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        record = data.get("name") or (self.source.name if self.source else "this source")
        if data.get("path"):
            try:
                data["path"] = clean_path(data["path"], record=record)
            except forms.ValidationError as exc:
                self.add_error("path", exc)
        if self.source_kind in URL_OR_PATH and "url" in self.fields and not data.get("url") and not data.get("path"):
            self.add_error("url", "Give the URL to read, or the path of saved files on this server.")
        every = data.get("schedule_every") or ""
        cron = (data.get("schedule_cron") or "").strip()
        if every == "cron":
            if not cron:
                self.add_error("schedule_cron", "Write the cron expression, or pick every hour, day or week.")
            elif not croniter.is_valid(cron):
                self.add_error("schedule_cron", f"{cron!r} is not a cron expression (e.g. 0 * * * * for hourly).")
        data["schedule"] = cron if every == "cron" else PRESET_CRON.get(every, "")
        return data

    def config_for(self, stored: dict[str, Any] | None = None) -> dict[str, Any]:
        """The config to save: ``stored`` (settings set elsewhere are kept) updated with the form's settings."""
        config = dict(stored or {})
        for spec in self.specs:
            value = self.cleaned_data.get(spec.key)
            if spec.field_type == "bool" and value == BOOL_KEYS.get(spec.key):
                value = None  # the connector's default: nothing to store
            if value in (None, "", [], {}):
                config.pop(spec.key, None)
            else:
                config[spec.key] = value
        return config

    def secrets_for(self, stored_raw: str = "") -> str | None:
        """The secrets to save as JSON, or None to keep the stored ones (every secret box left blank)."""
        typed = {key: self.cleaned_data.get(f"secret_{key}") or "" for key in self.secret_keys}
        typed = {key: value.strip() for key, value in typed.items() if value.strip()}
        if not typed:
            return None
        return json.dumps({**parse_secrets(stored_raw), **typed})


def _stored_secrets(source: Source | None) -> dict[str, Any]:
    return parse_secrets(source.secrets) if source is not None else {}


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
    field_order = ["archive", "kind", "name"]
    kind = forms.ChoiceField(
        choices=[],
        required=False,
        help_text="Townsquare reads the file and says which kind it recognised; pick one only to override it.",
    )
    name = forms.CharField(
        max_length=200, required=False, help_text="Source to import into; created if new. Defaults to the file name."
    )
    archive = forms.FileField(
        help_text="Slack export zip, Discord export (HTML/JSON/zip), IRC or Supybot log, GitHub issues archive, "
        "Stack Exchange dump file, Pipermail .txt(.gz), mbox, Matrix JSON, Zulip .tar.gz, a saved RSS feed ..."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        labels = dict(Source.Kind.choices)
        cast(forms.ChoiceField, self.fields["kind"]).choices = [
            ("", "Recognise it from its content"),
            *((k, labels.get(k, k)) for k in archive_kinds()),
        ]

    def clean_archive(self) -> Any:
        upload = self.cleaned_data["archive"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("The archive is larger than 2 GiB: import it with `townsquare import` instead.")
        return upload


class MessageFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search")
    source = forms.ModelChoiceField(queryset=Source.objects.all(), required=False)
    kind = forms.ChoiceField(choices=[("", "Any kind"), *Message.Kind.choices], required=False)
