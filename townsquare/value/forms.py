from __future__ import annotations

from typing import Any

from django import forms

from townsquare.value.figures import figure_choices
from townsquare.value.models import Goal


class GoalForm(forms.Form):
    text = forms.CharField(max_length=300, label="Goal")
    company_goal = forms.CharField(max_length=300, required=False, label="Company goal it serves")
    figure = forms.ChoiceField(required=False, label="Measured by")
    comparator = forms.ChoiceField(required=False, choices=[("", "—"), *Goal.Comparator.choices], label="Target is")
    target = forms.DecimalField(required=False, max_digits=14, decimal_places=2, label="Target")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["figure"].choices = figure_choices()  # type: ignore[attr-defined]
