from __future__ import annotations

import json
from typing import Any, cast

from django import forms
from django.utils.text import slugify

from townsquare.core.errors import TownsquareError
from townsquare.core.quarters import Quarter, current_quarter, quarter_parse
from townsquare.intake.fields import answer_to_json, fields_validate, form_field_for
from townsquare.intake.models import RequestType
from townsquare.people.models import Team

YES_NO = [("yes", "Yes"), ("no", "No"), ("unsure", "Not sure yet")]


def quarter_choices() -> list[tuple[str, str]]:
    now = current_quarter()
    return [(now.key, f"{now.label} (this quarter)"), (now.next().key, f"{now.next().label} (next quarter)")]


class QuarterField(forms.Field):
    """A quarter key; any well-formed quarter passes here, so a closed one gets the service's clear message."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.Select(choices=quarter_choices()))
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> Quarter | None:
        text = str(value or "").strip()[:20]
        if not text:
            return None
        try:
            return quarter_parse(text)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc


class RequestForm(forms.Form):
    """The request form for one type: common fields, then the type's own fields (from data)."""

    title = forms.CharField(max_length=200, help_text="One line your team and DevRel will recognise.")
    team = forms.ModelChoiceField(queryset=Team.objects.none(), empty_label=None)
    quarter = QuarterField(label="Budget quarter")
    desired_date = forms.DateField(required=False, label="Wanted by", widget=forms.DateInput(attrs={"type": "date"}))
    override = forms.BooleanField(
        required=False,
        label="File over budget (team lead override)",
        help_text="Only team leads can do this; the override is recorded in the ledger with your name.",
    )

    def __init__(self, *args: Any, request_type: RequestType, teams: Any, can_override: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request_type = request_type
        cast(forms.ModelChoiceField, self.fields["team"]).queryset = teams
        self.only_team = teams.first() if teams.count() == 1 else None
        if self.only_team is not None:
            self.fields["team"].initial = self.only_team.pk
            self.fields["team"].required = False
            self.fields["team"].widget = forms.HiddenInput()
        self.fields["quarter"].initial = current_quarter().key
        if not can_override:
            del self.fields["override"]
        self.type_field_names = []
        for spec in request_type.fields or []:
            name = f"f_{spec['name']}"
            self.fields[name] = form_field_for(spec)
            self.type_field_names.append(name)
        # The override box sits last, after the type's own questions.
        if "override" in self.fields:
            self.fields["override"] = self.fields.pop("override")

    def clean_team(self) -> Team | None:
        return self.cleaned_data.get("team") or self.only_team

    def details(self) -> dict[str, Any]:
        return {
            name[2:]: answer_to_json(self.cleaned_data.get(name))
            for name in self.type_field_names
            if self.cleaned_data.get(name) not in (None, "")
        }


def _yes_no(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


class TriageForm(forms.Form):
    class Decision:
        TRIAGE = "triage"
        ACCEPT = "accept"
        DECLINE = "decline"
        MENTORING = "mentoring"

    DECISIONS = [
        (Decision.TRIAGE, "Record the answers, decide later"),
        (Decision.ACCEPT, "Accept: DevRel does it (points are spent)"),
        (Decision.MENTORING, "Redirect to mentoring: coach the team to do it"),
        (Decision.DECLINE, "Decline (points are refunded)"),
    ]

    uniquely_devrel = forms.ChoiceField(
        label="Is this uniquely DevRel's work?", choices=YES_NO, widget=forms.RadioSelect
    )
    team_could_with_guidance = forms.ChoiceField(
        label="Could the team do this itself with guidance?", choices=YES_NO, widget=forms.RadioSelect
    )
    decision = forms.ChoiceField(choices=DECISIONS, widget=forms.RadioSelect, initial=Decision.TRIAGE)
    note = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Note to the requester",
        help_text="Sent with the notice; say why when declining.",
    )
    plan = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Mentoring plan",
        help_text="Only when redirecting to mentoring.",
    )

    def answers(self) -> dict[str, bool | None]:
        return {
            "uniquely_devrel": _yes_no(self.cleaned_data["uniquely_devrel"]),
            "team_could_with_guidance": _yes_no(self.cleaned_data["team_could_with_guidance"]),
        }

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("decision") == self.Decision.DECLINE and not (data.get("note") or "").strip():
            self.add_error("note", "Tell the requester why it is declined.")
        return data


class BudgetForm(forms.Form):
    team = forms.ModelChoiceField(queryset=Team.objects.none(), empty_label=None)
    quarter = QuarterField()
    points = forms.IntegerField(min_value=0, max_value=10_000, help_text="Whole points for the quarter, e.g. 15.")

    def __init__(self, *args: Any, teams: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["team"]).queryset = teams


class AdjustForm(forms.Form):
    points = forms.IntegerField(
        min_value=-10_000,
        max_value=10_000,
        label="Points to add",
        help_text="A whole number; negative to take points away.",
    )
    reason = forms.CharField(max_length=300, help_text="Recorded in the ledger for everyone to see.")

    def clean_points(self) -> int:
        points = self.cleaned_data["points"]
        if points == 0:
            raise forms.ValidationError("Enter a number other than zero.")
        return points


class RequestTypeForm(forms.Form):
    name = forms.CharField(max_length=100)
    slug = forms.SlugField(
        max_length=100,
        required=False,
        label="Address",
        help_text="Used in the form's URL; leave empty to derive it from the name.",
    )
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    points = forms.IntegerField(min_value=0, max_value=1000, help_text="Whole points charged to the team's budget.")
    mode = forms.ChoiceField(choices=RequestType.Mode.choices)
    mentoring_alternative = forms.ModelChoiceField(
        queryset=RequestType.objects.filter(mode=RequestType.Mode.MENTORING),
        required=False,
        help_text="What a repeated service request converts to when DevRel offers mentoring.",
    )
    form_fields = forms.CharField(
        label="Form fields (JSON)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 12, "class": "code", "spellcheck": "false"}),
        help_text='A list like [{"name": "event", "label": "Event", "kind": "text", "required": true}]. '
        'Kinds: text, textarea, url, date, number, choice (with "choices": [...]), checkbox.',
    )
    position = forms.IntegerField(min_value=0, max_value=10_000, initial=100, help_text="Lower comes first.")
    active = forms.BooleanField(
        required=False, initial=True, help_text="Inactive types stay on old requests but can no longer be filed."
    )

    def clean_slug(self) -> str:
        return self.cleaned_data.get("slug") or slugify(self.cleaned_data.get("name", ""))[:100]

    def clean_form_fields(self) -> list[dict[str, Any]]:
        text = self.cleaned_data.get("form_fields") or "[]"
        try:
            return fields_validate(json.loads(text))
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}).") from exc
        except TownsquareError as exc:
            raise forms.ValidationError(exc.message) from exc

    @staticmethod
    def initial_for(request_type: RequestType) -> dict[str, Any]:
        return {
            "name": request_type.name,
            "slug": request_type.slug,
            "description": request_type.description,
            "points": request_type.points,
            "mode": request_type.mode,
            "position": request_type.position,
            "mentoring_alternative": request_type.mentoring_alternative,
            "active": request_type.active,
            "form_fields": json.dumps(request_type.fields, indent=2, ensure_ascii=False),
        }
