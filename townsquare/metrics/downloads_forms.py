from __future__ import annotations

from typing import Any

from django import forms

from townsquare.metrics.downloads import fetcher_for
from townsquare.metrics.models import TrackedPackage


class PackageForm(forms.Form):
    registry = forms.ChoiceField(choices=TrackedPackage.Registry.choices)
    name = forms.CharField(
        max_length=214,
        help_text="PyPI project, npm package (@scope/name), Docker Hub namespace/repository, or GitHub owner/repo.",
    )
    label = forms.CharField(max_length=120, required=False, help_text="Optional: shown instead of the name.")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("registry") and data.get("name"):
            try:
                data["name"] = fetcher_for(data["registry"]).name_clean(data["name"])
            except ValueError as exc:
                self.add_error("name", str(exc))
        return data


class PackageEditForm(forms.Form):
    label = forms.CharField(max_length=120, required=False)
    enabled = forms.BooleanField(required=False)
