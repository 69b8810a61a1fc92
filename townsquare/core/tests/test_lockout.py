"""Login lockout: per username and per address, a clear message, counted in the database, unlocked by an admin."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from townsquare.core.models import LoginAttempt
from townsquare.core.roles import Role

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-123"  # make_user's
LOCKED_ACCOUNT = "Too many failed logins for this account"
LOCKED_ADDRESS = "Too many failed logins from your network address"


def login(username: str, password: str, *, address: str = "203.0.113.7", url: str = "/login/") -> Any:
    """A fresh browser (no session) posting the login form from ``address``."""
    return Client(REMOTE_ADDR=address).post(url, {"username": username, "password": password})


def logged_in(response: Any) -> bool:
    return response.status_code == 302 and "_auth_user_id" in response.client.session


def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(make_user: Any) -> None:
    user = make_user(Role.DEVREL_MEMBER)
    for _ in range(4):
        assert LOCKED_ACCOUNT not in login(user.username, "wrong").content.decode()
    fifth = login(user.username, "wrong").content.decode()
    assert LOCKED_ACCOUNT in fifth  # the attempt that locks says so
    right = login(user.username.upper(), PASSWORD, address="198.51.100.9")  # another address, any case
    assert not logged_in(right)
    assert LOCKED_ACCOUNT in right.content.decode() and "15 minutes" in right.content.decode()
    assert list(LoginAttempt.objects.order_by("at", "pk").values_list("outcome", flat=True)) == [
        *["failed"] * 5,
        "locked",
    ]


def test_the_lock_ends_after_the_window_and_a_success_clears_the_count(make_user: Any) -> None:
    user = make_user(Role.DEVREL_MEMBER)
    for _ in range(5):
        login(user.username, "wrong")
    LoginAttempt.objects.update(at=timezone.now() - dt.timedelta(minutes=16))
    assert logged_in(login(user.username, PASSWORD))
    for _ in range(4):  # the earlier failures no longer count, and neither do these after a success
        login(user.username, "wrong")
    assert logged_in(login(user.username, PASSWORD))
    assert not LoginAttempt.objects.filter(outcome="failed", cleared=False).exists()


def test_one_address_guessing_many_usernames_is_locked_out(make_user: Any, settings: Any) -> None:
    settings.LOGIN_FAILURES_PER_ADDRESS = 6
    victim = make_user(Role.DEVREL_LEAD)
    for n in range(6):
        login(f"guess{n}", "wrong")
    refused = login(victim.username, PASSWORD)
    assert not logged_in(refused) and LOCKED_ADDRESS in refused.content.decode()
    assert logged_in(login(victim.username, PASSWORD, address="198.51.100.9"))


def test_the_address_comes_from_the_trusted_proxy_header(make_user: Any, settings: Any) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    user = make_user(Role.DEVREL_MEMBER)
    Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.7").post(
        "/login/", {"username": user.username, "password": "wrong"}
    )
    assert LoginAttempt.objects.get().address == "203.0.113.7"


def test_the_admin_login_is_locked_out_too_and_an_admin_unlocks(make_user: Any, client: Any) -> None:
    user = make_user(Role.DEVREL_MEMBER)
    User.objects.create_superuser("root", "root@example.com", PASSWORD)
    for _ in range(5):
        login("root", "wrong", url="/admin/login/")
    refused = login("root", PASSWORD, url="/admin/login/")
    assert LOCKED_ACCOUNT in refused.content.decode() and not logged_in(refused)
    for _ in range(5):
        login(user.username, "wrong")
    assert not logged_in(login(user.username, PASSWORD))
    client.force_login(User.objects.get(username="root"))  # another administrator, already logged in
    log = client.get(reverse("admin:core_loginattempt_changelist")).content.decode()
    assert user.username in log and "Refused: locked out" in log
    chosen = LoginAttempt.objects.filter(username=user.username).values_list("pk", flat=True)[:1]
    done = client.post(
        reverse("admin:core_loginattempt_changelist"),
        {"action": "unlock_usernames", "_selected_action": list(chosen)},
        follow=True,
    )
    assert "Unlocked: 5 failed login(s) no longer count." in done.content.decode()
    assert logged_in(login(user.username, PASSWORD))
    assert not logged_in(login("root", PASSWORD, url="/admin/login/"))  # only the selected username is unlocked
    other = LoginAttempt.objects.filter(username="root").values_list("pk", flat=True)[:1]
    client.post(
        reverse("admin:core_loginattempt_changelist"), {"action": "unlock_addresses", "_selected_action": list(other)}
    )
    assert logged_in(login("root", PASSWORD, url="/admin/login/"))  # the address's failures cleared: root's were its
