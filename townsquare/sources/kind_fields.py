"""Each source kind's set-up fields: its settings (``Source.config`` keys) and secrets, as named form fields.

The settings come from each connector (``settings_help`` and ``required``), so a key a connector reads is a
field of its form; this module adds what a form needs besides: a label, a field type with its validation, and
which settings are advanced (hidden under a disclosure). Archive parsers that declare no settings get theirs
from ``ARCHIVE_SETTINGS``. The REST API keeps taking ``config`` as JSON; these fields write the same keys.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.validators import RegexValidator

from townsquare.core.errors import TownsquareError
from townsquare.sources.connectors import connector_class
from townsquare.sources.paths import path_confined

# Settings of archive parsers that declare none themselves (read from their ``self.config.get`` calls).
ARCHIVE_SETTINGS: dict[str, dict[str, str]] = {
    "slack_export": {
        "workspace_url": "the workspace, e.g. https://acme.slack.com, so messages link back to Slack",
        "team": "the workspace id (T0123ABCD) when the export does not name it; keeps identities apart",
    },
    "discord_export": {"guild_id": "the server's id, for links back when the export does not carry it"},
    "irc_log": {
        "channel": "the channel, e.g. #ubuntu-devel (default: from the log's file name)",
        "network": "e.g. libera.chat: nicks are identities per network",
        "channel_url": "a page about the channel, for links",
        "url_template": "where the day's log is published, e.g. https://irclogs.ubuntu.com/{year}/{month}/{day}/{channel}.txt",
    },
    "github_discussions": {"repository": "owner/name, when the archive does not say, e.g. django/django"},
    "stackexchange_dump": {"site": "the site, e.g. cooking.stackexchange.com (default: the dump's folder name)"},
    "discourse_archive": {
        "url": "the forum, e.g. https://forum.example.com, so topics link back",
        "categories": "names for category ids, one per line: 4 = Help",
    },
}
PATH_HELP = "an archive under TOWNSQUARE_IMPORT_DIR on this server; or leave empty and upload one"

# Settings most people never change: shown under "Advanced settings".
ADVANCED = {
    "api_url",
    "web_url",
    "base_url",
    "archive_url",
    "page_size",
    "lookback_hours",
    "lookback_messages",
    "min_rate_to_sleep",
    "nicknames",
    "port",
    "channel_url",
    "url_template",
    "team",
}
URL_KEYS = {"url", "homeserver", "api_url", "web_url", "base_url", "archive_url", "workspace_url", "channel_url"}
INT_KEYS = {"page_size": 1, "lookback_hours": 0, "lookback_messages": 0, "min_rate_to_sleep": 0, "port": 1}
BOOL_KEYS = {"nicknames": True}
MAP_KEYS = {"categories_names", "categories"}  # except where ``categories`` is a Perceval category choice
LIST_KEYS = {"channels", "rooms", "streams", "chats"}

LABELS = {
    "url": "URL",
    "api_url": "API URL",
    "web_url": "Web URL",
    "base_url": "Server URL",
    "archive_url": "Archive URL (for links)",
    "workspace_url": "Workspace URL",
    "channel_url": "Channel page URL",
    "url_template": "Log URL template",
    "guild_id": "Server (guild) ID",
    "homeserver": "Homeserver URL",
    "email": "Bot email",
    "user_id": "User ID",
    "categories_names": "Category names",
    "lookback_hours": "Look back (hours)",
    "lookback_messages": "Look back (messages)",
    "min_rate_to_sleep": "Minimum rate left",
    "nicknames": "Look up server nicknames",
    "path": "Archive path on this server",
    "start": "First month",
    "tagged": "Only questions tagged",
    "group": "Group",
    "host": "News server",
}

# Secrets per kind: (key in the stored JSON object, label, required to sync, help). Kinds not listed take none.
SECRETS: dict[str, list[tuple[str, str, bool, str]]] = {
    "discord": [
        (
            "token",
            "Bot token",
            True,
            "Developer Portal → your application → Bot → Reset Token; it needs View Channel and Read Message History.",
        )
    ],
    "matrix": [("token", "Access token", True, "Of an account that has joined the rooms (a bot account is best).")],
    "zulip": [
        ("token", "API key", True, "The bot's API key (Settings → Bots), a generic bot subscribed to the streams.")
    ],
    "github": [
        ("token", "Access token", False, "Fine-grained and read-only (issues, pull requests); raises the rate limit.")
    ],
    "gitlab": [
        ("token", "Access token", False, "A personal access token with read_api; optional for public projects.")
    ],
    "slack": [("token", "Bot token", True, "xoxb-…, with channels:history, channels:read and users:read.")],
    "gitter": [("token", "Access token", True, "A personal access token.")],
    "mattermost": [("token", "Access token", True, "A personal access token, or a bot account's.")],
    "rocketchat": [("token", "Personal access token", True, "Its user id goes in User ID above.")],
    "telegram": [
        ("token", "Bot token", True, "From @BotFather; turn privacy mode off so the bot reads every message.")
    ],
    "discourse": [
        ("token", "API key", False, "Leave empty for a public forum."),
        ("api_username", "API username", False, "The user the API key acts as, e.g. system."),
    ],
    "stackexchange": [
        ("token", "App key", False, "Optional: raises the daily quota."),
        ("access_token", "Access token", False, "Optional."),
    ],
    "groupsio": [
        ("email", "Member email", True, "A member allowed to download the archive."),
        ("password", "Password", True, "That member's password."),
    ],
}
URL_OR_PATH = {"rss", "pipermail"}  # read from a URL, or from saved files: one of the two
# Settings each connector checks itself at sync time rather than declaring in ``required``.
ALSO_REQUIRED = {"matrix": {"homeserver", "rooms"}, "zulip": {"url", "email", "streams"}}

SNOWFLAKE = RegexValidator(r"^\d{15,21}$", "A Discord id is a number of 15 to 21 digits (Developer Mode: Copy ID).")
NAME_PART = RegexValidator(
    r"^[A-Za-z0-9_.-]+$", "Letters, digits, '.', '-' and '_' only: the name as it appears in the project's URL."
)
GROUP_PATH = RegexValidator(
    r"^[A-Za-z0-9_.-]+((/|%2F)[A-Za-z0-9_.-]+)*$",
    "Letters, digits, '.', '-' and '_', with / between nested groups: as it appears in the project's URL.",
)
MONTH = RegexValidator(r"^\d{4}-(0[1-9]|1[0-2])$", "A month like 2024-01.")
OWNER_REPO = RegexValidator(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", "owner/name, e.g. django/django.")


@dataclass(frozen=True)
class Setting:
    key: str
    label: str
    help: str
    required: bool
    advanced: bool
    field_type: str  # text url int bool list map choices path snowflake name group_path month owner_repo


def kind_settings_spec(kind: str) -> list[Setting]:
    """The settings of ``kind``'s form, in the order the connector lists them (required ones first)."""
    connector = connector_class(kind)
    declared = dict(getattr(connector, "settings_help", {}) or {})
    declared = {**declared, **{k: v for k, v in ARCHIVE_SETTINGS.get(kind, {}).items() if k not in declared}}
    if connector.is_archive and "path" not in declared:
        declared = {"path": PATH_HELP, **declared}
    required = set(getattr(connector, "required", ()) or ()) | ALSO_REQUIRED.get(kind, set())
    if kind in URL_OR_PATH:
        required.discard("url")  # a live URL or saved files: the form asks for one of the two
    choices = tuple(getattr(connector, "categories", ()) or ())
    specs = [
        Setting(
            key=key,
            label=LABELS.get(key) or key.replace("_", " ").capitalize(),
            help=meaning,
            required=key in required,
            advanced=key in ADVANCED and key not in required,
            field_type=_field_type(kind, key, choices),
        )
        for key, meaning in declared.items()
    ]
    return sorted(specs, key=lambda s: not s.required)


def _field_type(kind: str, key: str, choices: tuple[str, ...]) -> str:
    if key == "categories" and len(choices) > 1:
        return "choices"
    if key == "path":
        return "path"
    if key == "guild_id":
        return "snowflake"
    if key == "owner" and kind == "gitlab":
        return "group_path"
    if key in ("owner", "repository") and kind in ("github", "gitlab"):
        return "name"
    if key == "repository":
        return "owner_repo"
    if key == "start":
        return "month"
    for kind_of_key, keys in (("url", URL_KEYS), ("int", INT_KEYS), ("bool", BOOL_KEYS)):
        if key in keys:
            return kind_of_key
    if key in MAP_KEYS:
        return "map"
    if key in LIST_KEYS:
        return "list"
    return "text"


def setting_field(kind: str, spec: Setting) -> forms.Field:
    """The form field for one setting; its ``clean`` returns the value as the connector reads it."""
    common: dict[str, Any] = {"label": spec.label, "help_text": _help(spec.help), "required": spec.required}
    kind_of = spec.field_type
    if kind_of == "url":
        return forms.URLField(max_length=1000, assume_scheme="https", **common)
    if kind_of == "int":
        return forms.IntegerField(
            min_value=INT_KEYS[spec.key], max_value=65535 if spec.key == "port" else None, **common
        )
    if kind_of == "bool":
        return forms.BooleanField(initial=BOOL_KEYS[spec.key], **{**common, "required": False})
    if kind_of == "choices":
        choices = [(c, c.replace("_", " ")) for c in getattr(connector_class(kind), "categories", ())]
        return forms.MultipleChoiceField(choices=choices, widget=forms.CheckboxSelectMultiple, **common)
    if kind_of == "map":
        return MappingField(widget=forms.Textarea(attrs={"rows": 3}), **common)
    if kind_of == "list":
        return ListField(kind=kind, key=spec.key, max_length=2000, **common)
    validators = {
        "snowflake": [SNOWFLAKE],
        "name": [NAME_PART],
        "group_path": [GROUP_PATH],
        "month": [MONTH],
        "owner_repo": [OWNER_REPO],
    }.get(kind_of, [])
    field = forms.CharField(max_length=1000, validators=validators, **common)
    if kind_of == "path":
        field.widget.attrs["spellcheck"] = "false"
    return field


def _help(text: str) -> str:
    text = re.sub(r"^optional: ", "", text.strip())  # the label says so
    return text[:1].upper() + text[1:] + ("" if text.endswith((".", ")")) else ".")


class ListField(forms.CharField):
    """Comma-separated names or ids, stored as the string the connectors split (``"help, announce"``)."""

    def __init__(self, *, kind: str, key: str, **kwargs: Any) -> None:
        self.kind, self.key = kind, key
        kwargs.setdefault("widget", forms.TextInput(attrs={"placeholder": "comma-separated"}))
        super().__init__(**kwargs)

    def clean(self, value: Any) -> str:
        text = super().clean(value)
        items = [item.strip() for item in re.split(r"[,\n]", text or "") if item.strip()]
        for item in items:
            problem = _list_item_problem(self.key, item)
            if problem:
                raise forms.ValidationError(f"{item!r}: {problem}")
        return ", ".join(dict.fromkeys(items))


def _list_item_problem(key: str, item: str) -> str:
    if key == "rooms" and not re.fullmatch(r"[#!][^\s:]+:[^\s]+", item):
        return "a room is an alias like #community:example.org or an id like !abc123:example.org"
    if key == "chats" and not re.fullmatch(r"-?\d+", item):
        return "a Telegram chat id is a number, e.g. -1001234567890"
    if key == "channels" and " " in item.strip():
        return "a channel is an id or a name without spaces"
    return ""


class MappingField(forms.CharField):
    """``id = name`` per line, stored as ``{"id": "name"}``."""

    def clean(self, value: Any) -> dict[str, str]:
        text = super().clean(value)
        mapping: dict[str, str] = {}
        for number, line in enumerate((text or "").splitlines(), start=1):
            if not line.strip():
                continue
            key, sep, name = line.partition("=")
            if not sep or not key.strip() or not name.strip():
                raise forms.ValidationError(f"line {number}: write it as id = name, e.g. 4 = Help")
            mapping[key.strip()] = name.strip()
        return mapping


def setting_initial(spec: Setting, value: Any) -> Any:
    """A stored config value as the form field shows it."""
    if spec.field_type == "map" and isinstance(value, dict):
        return "\n".join(f"{k} = {v}" for k, v in value.items())
    if spec.field_type == "list" and isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if spec.field_type == "bool":
        return str(value).lower() not in ("false", "0", "no", "off")
    return value


def clean_path(value: str, *, record: str) -> str:
    try:
        path_confined(value, record=record)
    except TownsquareError as exc:
        raise forms.ValidationError(exc.message) from exc
    return value
