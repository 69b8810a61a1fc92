"""A request type's form fields, defined in data: validate the definition, build Django fields from it.

A definition is a list of objects::

    {"name": "event", "label": "Event", "kind": "text", "required": true,
     "help": "Where will it happen?", "choices": ["Booth", "Workshop"]}

``kind`` is one of KINDS; ``choices`` only for ``choice``. Answers are stored as
JSON-friendly values (dates as ISO strings).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms

from townsquare.core.errors import TownsquareError

KINDS = ("text", "textarea", "url", "date", "number", "choice", "checkbox")
RESERVED_NAMES = {"title", "desired_date", "team", "quarter", "override", "type"}
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_FIELDS = 20


def fields_validate(definition: Any) -> list[dict[str, Any]]:
    """Return a normalised copy of ``definition`` or raise TownsquareError naming the bad entry."""
    if not isinstance(definition, list):
        raise TownsquareError("the form fields must be a JSON list of objects", record="fields")
    if len(definition) > MAX_FIELDS:
        raise TownsquareError(f"at most {MAX_FIELDS} fields", record="fields")
    seen: set[str] = set()
    clean = []
    for index, entry in enumerate(definition, start=1):
        where = f"field {index}"
        if not isinstance(entry, dict):
            raise TownsquareError(f"{where} is not an object", record="fields")
        unknown = set(entry) - {"name", "label", "kind", "required", "help", "choices"}
        if unknown:
            raise TownsquareError(f"{where} has unknown keys: {', '.join(sorted(unknown))}", record="fields")
        name = entry.get("name")
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise TownsquareError(
                f"{where}: name must be lower_case letters, digits and _ (got {name!r})", record="fields"
            )
        if name in RESERVED_NAMES or name in seen:
            raise TownsquareError(
                f"{where}: the name {name!r} is {'reserved' if name in RESERVED_NAMES else 'used twice'}",
                record="fields",
            )
        seen.add(name)
        label = entry.get("label") or name.replace("_", " ").capitalize()
        kind = entry.get("kind", "text")
        if kind not in KINDS:
            raise TownsquareError(f"{where}: kind must be one of {', '.join(KINDS)} (got {kind!r})", record="fields")
        required = entry.get("required", False)
        if not isinstance(required, bool) or not isinstance(label, str) or not isinstance(entry.get("help", ""), str):
            raise TownsquareError(f"{where}: label and help are text, required is true or false", record="fields")
        field: dict[str, Any] = {
            "name": name,
            "label": label[:200],
            "kind": kind,
            "required": required,
            "help": entry.get("help", "")[:300],
        }
        if kind == "choice":
            choices = entry.get("choices")
            if not isinstance(choices, list) or not choices or not all(isinstance(c, str) and c for c in choices):
                raise TownsquareError(
                    f"{where}: a choice field needs a non-empty list of text choices", record="fields"
                )
            field["choices"] = choices
        elif "choices" in entry:
            raise TownsquareError(f"{where}: only choice fields take choices", record="fields")
        clean.append(field)
    return clean


def form_field_for(spec: dict[str, Any]) -> forms.Field:
    kind, common = (
        spec["kind"],
        {"label": spec["label"], "required": spec["required"], "help_text": spec.get("help", "")},
    )
    if kind == "textarea":
        return forms.CharField(max_length=5000, widget=forms.Textarea(attrs={"rows": 4}), **common)
    if kind == "url":
        return forms.URLField(max_length=500, assume_scheme="https", **common)
    if kind == "date":
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if kind == "number":
        return forms.IntegerField(min_value=0, max_value=1_000_000, **common)
    if kind == "choice":
        return forms.ChoiceField(choices=[("", "—"), *[(c, c) for c in spec["choices"]]], **common)
    if kind == "checkbox":
        return forms.BooleanField(**common)
    return forms.CharField(max_length=300, **common)


def answer_to_json(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def details_for_display(definition: list[dict[str, Any]], details: dict[str, Any]) -> list[tuple[str, Any, str]]:
    """(label, value, kind) for each answered field, in the definition's order; answers to removed fields last."""
    rows = []
    known = set()
    for spec in definition:
        known.add(spec["name"])
        value = details.get(spec["name"])
        if value not in (None, ""):
            if spec["kind"] == "checkbox":
                value = "Yes" if value else "No"
            rows.append((spec["label"], value, spec["kind"]))
    for name, value in details.items():
        if name not in known and value not in (None, ""):
            rows.append((name.replace("_", " ").capitalize(), value, "text"))
    return rows
