"""A small realistic workspace for view and browser tests: two themes over three channels."""

from __future__ import annotations

from typing import Any

from townsquare.feedback import services
from townsquare.feedback.models import Theme
from townsquare.feedback.tests.factories import AccountFactory, ChannelFactory, IdentityFactory, MessageFactory

EXPORT = [
    "CSV export drops rows that contain commas in quoted fields",
    "Exporting to CSV loses every row with a comma inside quotes",
    "The CSV export is missing rows when a field has a comma",
]
EXPORT_TWIN = ["Rows with commas disappear from the CSV download", "CSV download skips lines that have commas"]
DARK = ["Please add a dark mode to the dashboard", "Dark mode for the dashboard would be great"]


def feedback_workspace() -> dict[str, Any]:
    channels = [
        ChannelFactory(source__name="GitHub", name="acme/app issues"),
        ChannelFactory(source__name="Discourse", name="forum: help"),
        ChannelFactory(source__name="Slack", name="#community"),
    ]
    acme = AccountFactory(tier="enterprise", annual_revenue=500_000, organization__name="Acme")
    people = [IdentityFactory(member__organization=acme.organization), IdentityFactory(), IdentityFactory()]
    made = {}
    for name, texts in (("export", EXPORT), ("dark", DARK), ("twin", EXPORT_TWIN)):
        messages = [MessageFactory(body=t, channel=channels[i % 3], author=people[i % 3]) for i, t in enumerate(texts)]
        services.messages_process(message_ids=[m.pk for m in messages])
        made[name] = messages
    export_theme = made["export"][0].feedback_assignment.theme
    # Make sure the twin is its own theme, as incremental assignment can leave paraphrases apart.
    twin = Theme.objects.create(title="CSV download skips lines", centroid=export_theme.centroid)
    from townsquare.feedback.models import ThemeMessage

    ThemeMessage.objects.filter(message__in=made["twin"]).update(theme=twin)
    services.themes_refresh_all()
    for theme in (export_theme, twin):
        theme.refresh_from_db()
    return {
        "channels": channels,
        "messages": made,
        "export": export_theme,
        "twin": twin,
        "dark": Theme.objects.get(assignments__message=made["dark"][0]),
    }
