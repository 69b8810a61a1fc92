"""Filters and the scenario form of the Value pages (GET parameters, so every view is a link)."""

from __future__ import annotations

from typing import Any

from django import forms

from townsquare.metrics.corpus import month_parse
from townsquare.metrics.models import ChannelMap
from townsquare.sources.models import Source

NEW_CHANNEL = "new"


class MonthField(forms.Field):
    """A calendar month typed as YYYY-MM, cleaned to its month number (see corpus.py)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM"}))
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> int | None:
        text = str(value or "").strip()[:20]
        if not text:
            return None
        try:
            return month_parse(text)
        except ValueError as exc:
            raise forms.ValidationError("Give a month as YYYY-MM.") from exc


def _sources() -> Any:
    # Only what a page shows: the secrets column would be decrypted for every choice otherwise.
    return Source.objects.only("pk", "name").order_by("name")


class _PlainChoices(forms.models.ModelChoiceIterator):
    """The choices read with one plain query. Django's iterator reads them through ``QuerySet.iterator()``,
    a server-side cursor on PostgreSQL (DECLARE ... WITH HOLD, then FETCH and CLOSE): four round trips,
    and on a busy server the slowest query of the page, for a dozen rows."""

    def __iter__(self) -> Any:
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in list(self.queryset):
            yield self.choice(obj)


class SourceChoiceField(forms.ModelChoiceField):
    iterator = _PlainChoices


class SourcesChoiceField(forms.ModelMultipleChoiceField):
    iterator = _PlainChoices


class HealthFilterForm(forms.Form):
    source = SourceChoiceField(queryset=_sources(), required=False, empty_label="All channels", label="Channel")
    start = MonthField(label="From")
    end = MonthField(label="To")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start") is not None and data.get("end") is not None and data["start"] > data["end"]:
            raise forms.ValidationError("The first month comes after the last one.")
        return data


class ScenarioForm(forms.Form):
    """A consolidation question: which channels go, where their people should go, over which window."""

    window = forms.ChoiceField(choices=ChannelMap.Window.choices, required=False, initial="12m")
    retire = SourcesChoiceField(
        queryset=_sources(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Channels to retire",
    )
    to = forms.ChoiceField(required=False, label="Their people move to")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        sources = list(_sources().values_list("pk", "name"))
        to = self.fields["to"]
        assert isinstance(to, forms.ChoiceField)
        to.choices = [(NEW_CHANNEL, "A new channel"), *((str(pk), name) for pk, name in sources)]

    def clean_window(self) -> str:
        return self.cleaned_data.get("window") or "12m"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        to = data.get("to") or NEW_CHANNEL
        data["destination"] = None if to == NEW_CHANNEL else _sources().filter(pk=int(to)).first()
        if data["destination"] is not None and data["destination"] in (data.get("retire") or []):
            self.add_error("to", "The destination cannot be one of the channels you retire.")
        return data

    @property
    def asks(self) -> bool:
        """Whether the visitor asked a question at all (the bare page shows the map only)."""
        return self.is_bound and bool(self.data.get("retire") or self.data.get("to"))


class ScenarioSaveForm(forms.Form):
    name = forms.CharField(max_length=200)
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
