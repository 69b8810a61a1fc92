from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone


class LinkDropForm(forms.Form):
    url = forms.CharField(label="Link", max_length=2000, widget=forms.URLInput(attrs={"placeholder": "https://"}))
    note = forms.CharField(
        label="Why it belongs in the newsletter",
        max_length=500,
        widget=forms.TextInput(attrs={"placeholder": "One line of context for the marketer"}),
    )


class NewsletterForm(forms.Form):
    title = forms.CharField(max_length=200)
    period_start = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    period_end = forms.DateField(label="To", widget=forms.DateInput(attrs={"type": "date"}))

    @classmethod
    def initial_now(cls) -> dict[str, object]:
        today = timezone.localdate()
        start = today.replace(day=1)
        return {"title": f"Community newsletter, {today:%B %Y}", "period_start": start, "period_end": today}

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        start, end = data.get("period_start"), data.get("period_end")
        if isinstance(start, dt.date) and isinstance(end, dt.date) and start > end:
            self.add_error("period_end", "The period ends before it starts.")
        return data


class SectionForm(forms.Form):
    heading = forms.CharField(max_length=300)
    body = forms.CharField(label="Text", required=False, widget=forms.Textarea(attrs={"rows": 5}))


class CommentForm(forms.Form):
    body = forms.CharField(label="Comment", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    suggested_body = forms.CharField(
        label="Suggested text (optional)", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("changes", "Ask for changes")])
    body = forms.CharField(label="Note", required=False, widget=forms.Textarea(attrs={"rows": 2}))
