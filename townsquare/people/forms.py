from __future__ import annotations

from typing import Any, cast

from django import forms

from townsquare.people.crm import FIELD_LABELS, FIELDS
from townsquare.people.models import Account, Identity, Member, Segment
from townsquare.people.selectors import ACTIVITY_LABELS, DIRECTORY_SORT_LABELS


class DirectoryForm(forms.Form):
    q = forms.CharField(
        required=False,
        label="Search",
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name, handle, email or organisation"}),
    )
    organization = forms.IntegerField(required=False, widget=forms.HiddenInput)
    tier = forms.ChoiceField(
        required=False, label="Customer", choices=[("", "Anyone"), ("customer", "Any customer"), *Account.Tier.choices]
    )
    staff = forms.ChoiceField(
        required=False,
        label="Staff",
        choices=[("", "Everyone"), ("community", "Community only"), ("staff", "Staff only")],
    )
    channel = forms.ChoiceField(required=False, label="Channel", choices=[("", "All channels")])
    activity = forms.ChoiceField(
        required=False, label="Activity", choices=[("", "Any activity"), *ACTIVITY_LABELS.items()]
    )
    sort = forms.ChoiceField(
        required=False,
        label="Order",
        choices=list(DIRECTORY_SORT_LABELS.items()),
    )

    def __init__(self, *args: Any, channels: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["channel"]).choices = [("", "All channels"), *((c, c) for c in channels)]


class SegmentForm(forms.Form):
    """Save the directory's current view under a name."""

    name = forms.CharField(max_length=100, label="Segment name", strip=True)
    query = forms.CharField(max_length=1000, required=False, widget=forms.HiddenInput)
    shared = forms.BooleanField(required=False, initial=True, label="Share with the DevRel team")

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"]
        if Segment.objects.filter(name__iexact=name).exists():
            raise forms.ValidationError(f"A segment named {name!r} exists already: choose another name.")
        return name


class MergeForm(forms.Form):
    other = forms.IntegerField(label="Member to merge into this one", min_value=1)

    def __init__(self, *args: Any, member: Member, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.member = member

    def clean_other(self) -> Member:
        pk = self.cleaned_data["other"]
        if pk == self.member.pk:
            raise forms.ValidationError("Choose another member.")
        other = Member.objects.filter(pk=pk).first()
        if other is None:
            raise forms.ValidationError("No member has that id.")
        return other


class IdentityChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Identity) -> str:
        return f"{obj.handle or obj.display_name or obj.external_id} · {obj.realm}" + (
            f" · {obj.email}" if obj.email else ""
        )


class SplitForm(forms.Form):
    identities = IdentityChoiceField(
        queryset=Identity.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        label="Identities that belong to someone else",
    )

    def __init__(self, *args: Any, member: Member, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(IdentityChoiceField, self.fields["identities"])
        field.queryset = Identity.objects.filter(member=member).order_by("realm", "handle")


class EraseForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        label="Reason",
        help_text="A request or ticket reference. Do not write the person's name or email here: "
        "this text is kept in the audit log after the erasure.",
    )
    confirm = forms.CharField(max_length=20, label="Type ERASE to confirm")

    def clean_confirm(self) -> str:
        if self.cleaned_data["confirm"].strip() != "ERASE":
            raise forms.ValidationError("Type ERASE in capitals to confirm.")
        return "ERASE"


class AccountsImportForm(forms.Form):
    file = forms.FileField(
        label="CRM export (CSV)",
        help_text="UTF-8 or Excel CSV, comma, semicolon or tab separated; first line holds the column names.",
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > 20 * 1024 * 1024:
            raise forms.ValidationError("The file is larger than 20 MB.")
        return upload


class MappingForm(forms.Form):
    """One select per field: which CSV column holds it (blank: not in the file)."""

    def __init__(self, *args: Any, headers: list[str], initial_mapping: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        inverse = {name: column for column, name in initial_mapping.items()}
        for name in FIELDS:
            self.fields[f"col_{name}"] = forms.ChoiceField(
                label=FIELD_LABELS[name],
                required=name in ("crm_id", "name"),
                choices=[("", "— not in the file —"), *((h, h) for h in headers)],
                initial=inverse.get(name, ""),
            )

    def mapping(self) -> dict[str, str]:
        mapping: dict[str, str] = {}
        for name in FIELDS:
            column = self.cleaned_data.get(f"col_{name}")
            if column:
                if column in mapping:
                    self.add_error(f"col_{name}", f"Column {column!r} is already mapped to {mapping[column]}.")
                mapping[column] = name
        return mapping
