from __future__ import annotations

from typing import Any, cast

from django import forms

from townsquare.feedback import selectors
from townsquare.feedback.models import Classification, Theme
from townsquare.feedback.services import WEIGHT_FIELDS
from townsquare.people.models import Account, Team
from townsquare.sources.models import Source

LIVE_THEMES = Theme.objects.exclude(status__in=[Theme.Status.MERGED, Theme.Status.ARCHIVED])


class RenameForm(forms.Form):
    title = forms.CharField(max_length=200)


class AnnotateForm(forms.Form):
    why_now = forms.CharField(label="Why this matters now", widget=forms.Textarea(attrs={"rows": 3}), required=False)
    summary = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)


class RouteForm(forms.Form):
    department = forms.ModelChoiceField(queryset=Team.objects.order_by("name"), required=False, empty_label="(none)")


class IssueForm(forms.Form):
    issue_url = forms.URLField(label="Issue tracker URL", max_length=1000, required=False, assume_scheme="https")


class AddressForm(forms.Form):
    release = forms.CharField(label="Addressed in release (or docs page)", max_length=200)


class SplitForm(forms.Form):
    messages = forms.TypedMultipleChoiceField(coerce=int, choices=[])
    title = forms.CharField(max_length=200, required=False)

    def __init__(self, *args: Any, message_ids: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.TypedMultipleChoiceField, self.fields["messages"]).choices = [(i, str(i)) for i in message_ids]


class MoveForm(forms.Form):
    message = forms.IntegerField()
    theme = forms.ModelChoiceField(queryset=LIVE_THEMES)


class MergeForm(forms.Form):
    """From the inbox: ``themes`` and the survivor ``target``; from a theme page: ``current`` and ``keep``."""

    themes = forms.ModelMultipleChoiceField(queryset=LIVE_THEMES)
    target = forms.ModelChoiceField(queryset=LIVE_THEMES, required=False)
    current = forms.ModelChoiceField(queryset=LIVE_THEMES, required=False)
    keep = forms.ChoiceField(choices=[("this", "This theme"), ("other", "The other theme")], required=False)

    def survivor(self) -> Theme | None:
        """The theme the curator chose to keep, or None when they have not chosen yet."""
        data = self.cleaned_data
        chosen: list[Theme] = list(data["themes"])
        if data["target"] is not None:
            return data["target"] if data["target"] in chosen else None
        current = data["current"]
        if current is not None and data["keep"] and current in chosen and len(chosen) == 2:
            return current if data["keep"] == "this" else next(t for t in chosen if t.pk != current.pk)
        return None


class ReclassifyForm(forms.Form):
    message = forms.IntegerField()
    kind = forms.ChoiceField(choices=Classification.Kind.choices)
    docs_gap = forms.BooleanField(required=False)


class WeightsForm(forms.Form):
    def __init__(self, *args: object, initial_weights: dict[str, float], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        for name in WEIGHT_FIELDS:
            self.fields[name] = forms.FloatField(
                min_value=0, initial=initial_weights[name], label=name.replace("_", " ")
            )


KIND_CHOICES = [
    ("", "Any kind"),
    (Classification.Kind.BUG, "Bug"),
    (Classification.Kind.FEATURE, "Feature request"),
    (Classification.Kind.QUESTION, "Question"),
    (selectors.DOCS_GAP, "Docs gap"),
    (Classification.Kind.COMPLAINT, "Complaint"),
    (Classification.Kind.PRAISE, "Praise"),
]
SORT_CHOICES = [(f"{sign}{name}", name) for name in selectors.SORTS for sign in ("-", "")]


# What each filter does, for the API schema (the form's labels are the page's).
INBOX_FILTER_HELP = {
    "view": "live: two or more people, a paying customer or a curator's touch; single: the rest; all: both.",
    "kind": "Themes with a message of this kind (docs_gap: a question the documentation should have answered).",
    "source": "Themes with a message from this source (its id).",
    "department": "Themes routed to this team (its id).",
    "tier": "Themes with a message by a customer account of this tier.",
    "status": "Themes of this status; by default every status but merged and archived.",
    "since": "Themes with a message on or after this date; ranked by that period's messages.",
    "until": 'Themes with a message on or before this date; the period\'s end is "now" for recency and trend.',
    "sort": "The column to sort on, with a leading - for descending (default -score).",
}


class InboxFilterForm(forms.Form):
    """The inbox's GET filters, shared by the page, its CSV export and the themes API.

    Every field is optional and a bad value falls back to its default. Kind, channel and tier combine on one
    message ("a feature request from an enterprise customer on Slack"), and with a date on one in the period.
    """

    view = forms.ChoiceField(
        choices=[(selectors.View.LIVE, "Live"), (selectors.View.SINGLE, "Single reports"), (selectors.View.ALL, "All")],
        required=False,
    )
    kind = forms.ChoiceField(choices=KIND_CHOICES, required=False)
    source = forms.ModelChoiceField(
        queryset=Source.objects.order_by("name"), required=False, empty_label="Any channel", label="Channel"
    )
    department = forms.ModelChoiceField(
        queryset=Team.objects.order_by("name"), required=False, empty_label="Any department"
    )
    tier = forms.ChoiceField(
        choices=[("", "Any customer tier"), *Account.Tier.choices], required=False, label="Customer tier"
    )
    status = forms.ChoiceField(choices=[("", "Any open status"), *Theme.Status.choices], required=False)
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="From")
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="To")
    sort = forms.ChoiceField(choices=SORT_CHOICES, required=False)

    def __init__(self, *args: Any, default_view: str = selectors.View.LIVE, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.default_view = default_view

    def filters(self) -> selectors.InboxFilters:
        """The filters as given; fields that did not validate are dropped, so a stale link still shows a list."""
        self.is_valid()
        data = {name: value for name, value in self.cleaned_data.items() if name not in self.errors}
        sort = data.get("sort") or "-score"
        source, department = data.get("source"), data.get("department")
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            since, until = until, since
        return selectors.InboxFilters(
            view=data.get("view") or self.default_view,
            status=data.get("status") or "",
            kind=data.get("kind") or "",
            source_id=source.pk if source is not None else None,
            department_id=department.pk if department is not None else None,
            tier=data.get("tier") or "",
            since=since,
            until=until,
            sort=sort.lstrip("-"),
            descending=sort.startswith("-"),
        )
