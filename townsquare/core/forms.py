from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm

from townsquare.core.lockout import client_address, lockout_message


class LockoutMixin:
    """Say "locked out" instead of "wrong password" when the lockout backend refused the attempt."""

    request: Any
    cleaned_data: dict[str, Any]

    def clean(self) -> dict[str, Any]:
        try:
            return super().clean()  # type: ignore[misc]
        except forms.ValidationError:
            message = lockout_message(
                username=self.cleaned_data.get("username") or "", address=client_address(self.request)
            )
            if message:
                raise forms.ValidationError(message, code="locked_out") from None
            raise


class LockoutAuthenticationForm(LockoutMixin, AuthenticationForm):
    pass


class LockoutAdminAuthenticationForm(LockoutMixin, AdminAuthenticationForm):
    pass
