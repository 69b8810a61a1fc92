from __future__ import annotations

from typing import Any, cast

from django import forms

from townsquare.feedback.models import Classification, Theme
from townsquare.feedback.services import WEIGHT_FIELDS
from townsquare.people.models import Team


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
    theme = forms.ModelChoiceField(
        queryset=Theme.objects.exclude(status__in=[Theme.Status.MERGED, Theme.Status.ARCHIVED])
    )


class MergeForm(forms.Form):
    themes = forms.ModelMultipleChoiceField(
        queryset=Theme.objects.exclude(status__in=[Theme.Status.MERGED, Theme.Status.ARCHIVED])
    )
    target = forms.ModelChoiceField(
        queryset=Theme.objects.exclude(status__in=[Theme.Status.MERGED, Theme.Status.ARCHIVED]), required=False
    )


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
