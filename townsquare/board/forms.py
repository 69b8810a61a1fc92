from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django import forms
from django.contrib.auth import get_user_model

from townsquare.board.models import Announcement, BoardSettings, Column, Task, Visibility
from townsquare.people.models import Team


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.get_full_name() or obj.get_username()


def _people() -> Any:
    return get_user_model().objects.filter(is_active=True).order_by("first_name", "last_name", "username")


class TaskForm(forms.Form):
    title = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 5}))
    column = forms.ChoiceField(choices=Column.choices, initial=Column.BACKLOG)
    owner = PersonChoiceField(queryset=get_user_model().objects.none(), required=False, empty_label="Nobody yet")
    due_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    labels = forms.CharField(required=False, help_text="Comma-separated, e.g. docs, kafka, tutorial")
    visibility = forms.ChoiceField(choices=Visibility.choices, initial=Visibility.PUBLIC, widget=forms.RadioSelect)

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(PersonChoiceField, self.fields["owner"]).queryset = _people()
        if editing:
            del self.fields["column"]  # columns change by moving the card, so the history says so

    @classmethod
    def initial_for(cls, task: Task) -> dict[str, Any]:
        return {
            "title": task.title,
            "description": task.description,
            "owner": task.owner_id,
            "due_date": task.due_date,
            "labels": ", ".join(label.name for label in task.labels.all()),
            "visibility": task.visibility,
        }

    def clean_due_date(self) -> dt.date | None:
        return self.cleaned_data.get("due_date")


class MoveForm(forms.Form):
    column = forms.ChoiceField(choices=Column.choices)
    before = forms.IntegerField(required=False, widget=forms.HiddenInput)


class _PersonOrName(forms.Form):
    """A person picked from the logins, or typed by name for someone without one; subclasses declare both."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(PersonChoiceField, self.fields["user"]).queryset = _people()

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if not data.get("user") and not (data.get("name") or "").strip():
            raise forms.ValidationError("Pick a person or type their name.")
        return data


class CollaboratorForm(_PersonOrName):
    user = PersonChoiceField(
        queryset=get_user_model().objects.none(), required=False, label="Person", empty_label="Someone without a login…"
    )
    name = forms.CharField(
        max_length=200, required=False, label="Or their name", help_text="For people without a Townsquare login."
    )
    team = forms.ModelChoiceField(
        queryset=Team.objects.all(), required=False, help_text="Leave empty to use the person's own team."
    )
    contribution = forms.CharField(max_length=300, label="What they did")


class ThanksForm(_PersonOrName):
    user = PersonChoiceField(
        queryset=get_user_model().objects.none(), required=False, label="Who", empty_label="Someone without a login…"
    )
    name = forms.CharField(max_length=200, required=False, label="Or their name")
    team = forms.ModelChoiceField(queryset=Team.objects.all(), required=False)
    message = forms.CharField(max_length=500, label="Thank you for…")


class AnnouncementForm(forms.ModelForm):
    class Meta:
        model = Announcement
        fields = ["headline", "note"]
        widgets = {"note": forms.Textarea(attrs={"rows": 3})}


class BoardSettingsForm(forms.Form):
    announce_mode = forms.ChoiceField(
        choices=BoardSettings.AnnounceMode.choices, widget=forms.RadioSelect, label="When a task reaches Done"
    )


class PeriodForm(forms.Form):
    """A fiscal quarter (the usual question: "what did my team do for DevRel this quarter?") or any date range."""

    quarter = forms.ChoiceField(required=False, label="Quarter")
    start = forms.DateField(required=False, label="Or from", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from townsquare.core.quarters import current_quarter

        super().__init__(*args, **kwargs)
        quarter = current_quarter()
        choices = [("", "All time")]
        for _ in range(8):
            choices.append((quarter.key, quarter.label))
            quarter = quarter.previous()
        cast(forms.ChoiceField, self.fields["quarter"]).choices = choices

    def clean_quarter(self) -> Any:
        from townsquare.core.quarters import quarter_parse

        value = self.cleaned_data.get("quarter")
        return quarter_parse(value) if value else None
