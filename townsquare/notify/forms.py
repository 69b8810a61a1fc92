from __future__ import annotations

from typing import Any

from django import forms

from townsquare.notify.models import Destination, Purpose


class DestinationForm(forms.Form):
    name = forms.CharField(max_length=100)
    url = forms.CharField(
        label="Apprise URL",
        required=False,
        widget=forms.PasswordInput(
            render_value=False, attrs={"autocomplete": "off", "spellcheck": "false", "data-reveal": ""}
        ),
        help_text="For example slack://TokenA/TokenB/TokenC/#devrel or json://hooks.example.com/path. "
        "Stored encrypted and never shown again; leave empty when editing to keep the current one.",
    )
    purposes = forms.MultipleChoiceField(choices=Purpose.choices, widget=forms.CheckboxSelectMultiple, required=False)
    enabled = forms.BooleanField(required=False, initial=True)

    def __init__(self, *args: Any, instance: Destination | None = None, **kwargs: Any) -> None:
        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {"name": instance.name, "purposes": instance.purposes, "enabled": instance.enabled}
        super().__init__(*args, **kwargs)
        if instance is None:
            self.fields["url"].required = True

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        clash = Destination.objects.filter(name__iexact=name)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError("Another destination already has this name.")
        return name
