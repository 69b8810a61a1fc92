"""Login lockout on django-axes: per username and per address, a clear message, in the database, unlocked by an
admin, logged for the DevRel lead; and the API throttled through the database cache."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.contrib.auth.models import User
from django.core.cache import caches
from django.test import Client
from django.utils import timezone

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


def test_forty_wrong_passwords_then_the_right_one_is_refused(make_user: Any) -> None:
    user = make_user(Role.DEVREL_MEMBER)
    answers = [login(user.username, f"wrong-{n}") for n in range(40)]
    right = login(user.username, PASSWORD)
    assert not logged_in(right)
    assert right.status_code == 429 and LOCKED_ACCOUNT in right.content.decode()
    assert "<form" in right.content.decode()  # the login page, saying why: not a bare 403
    assert [r.status_code for r in answers[:4]] == [200] * 4  # the wrong-password page, until the lock
    assert all(r.status_code == 429 for r in answers[4:])


def test_five_wrong_passwords_lock_the_account_even_from_another_address_in_any_case(make_user: Any) -> None:
    user = make_user(Role.DEVREL_MEMBER)
    for _ in range(4):
        assert LOCKED_ACCOUNT not in login(user.username, "wrong").content.decode()
    assert LOCKED_ACCOUNT in login(user.username, "wrong").content.decode()  # the attempt that locks says so
    right = login(user.username.upper(), PASSWORD, address="198.51.100.9")
    assert not logged_in(right)
    assert LOCKED_ACCOUNT in right.content.decode() and "15 minutes" in right.content.decode()
    assert AccessFailureLog.objects.filter(locked_out=True).exists()
    assert PASSWORD not in "".join(AccessAttempt.objects.values_list("post_data", flat=True))


def test_the_lock_ends_after_the_window_and_a_success_clears_the_count(make_user: Any) -> None:
    user = make_user(Role.DEVREL_MEMBER)
    for _ in range(5):
        login(user.username, "wrong")
    AccessAttempt.objects.update(attempt_time=timezone.now() - dt.timedelta(minutes=16))
    assert logged_in(login(user.username, PASSWORD))
    for _ in range(4):  # the earlier failures no longer count, and neither do these after a success
        login(user.username, "wrong")
    assert logged_in(login(user.username, PASSWORD))
    assert not AccessAttempt.objects.filter(username=user.username).exists()


def test_one_address_guessing_many_usernames_is_locked_out(make_user: Any, settings: Any) -> None:
    settings.LOGIN_FAILURES_PER_ADDRESS = 6
    victim = make_user(Role.DEVREL_LEAD)
    mine = make_user(Role.STAKEHOLDER_MEMBER)
    for n in range(5):
        login(f"guess{n}", "wrong")
    assert logged_in(login(mine.username, PASSWORD))  # the guesser's own account does not clear the guesses
    login("guess5", "wrong")
    refused = login(victim.username, PASSWORD)
    assert not logged_in(refused) and LOCKED_ADDRESS in refused.content.decode()
    assert logged_in(login(victim.username, PASSWORD, address="198.51.100.9"))


def test_the_address_comes_from_the_trusted_proxy_header(make_user: Any, settings: Any) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    user = make_user(Role.DEVREL_MEMBER)
    Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.7").post(
        "/login/", {"username": user.username, "password": "wrong"}
    )
    assert AccessAttempt.objects.get().ip_address == "203.0.113.7"


def test_the_lead_reads_the_log_and_an_administrator_unlocks(make_user: Any, client: Any) -> None:
    user = make_user(Role.DEVREL_MEMBER)
    User.objects.create_superuser("root", "root@example.com", PASSWORD)
    for _ in range(5):
        login("root", "wrong", url="/admin/login/")
    refused = login("root", PASSWORD, url="/admin/login/")
    assert LOCKED_ACCOUNT in refused.content.decode() and not logged_in(refused)  # the admin's login too
    for _ in range(5):
        login(user.username, "wrong")
    lead = make_user(Role.DEVREL_LEAD)
    assert not lead.is_superuser
    client.force_login(lead)
    log = client.get("/logins/").content.decode()
    assert user.username in log and "locked out" in log and "203.0.113.7" in log
    assert client.post("/logins/unlock/", {"username": user.username}).status_code == 403  # leads read, admins unlock
    for role in (Role.DEVREL_MEMBER, Role.STAKEHOLDER_LEAD, Role.EXECUTIVE):
        client.force_login(make_user(role))
        assert client.get("/logins/").status_code == 403
    client.force_login(make_user(Role.ADMIN))
    done = client.post("/logins/unlock/", {"username": user.username}, follow=True).content.decode()
    assert f"Unlocked account &#x27;{user.username}&#x27;" in done
    assert logged_in(login(user.username, PASSWORD, address="198.51.100.9"))
    assert not logged_in(login("root", PASSWORD, url="/admin/login/", address="198.51.100.9"))  # only that one
    client.post("/logins/unlock/", {"username": "root"})
    assert logged_in(login("root", PASSWORD, url="/admin/login/", address="198.51.100.9"))


def test_the_api_throttles_a_client_in_the_database_cache(make_user: Any, settings: Any) -> None:
    from rest_framework.authtoken.models import Token

    settings.API_RATE_USER = "5/minute"
    token = Token.objects.create(user=make_user(Role.DEVREL_MEMBER))
    api = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    codes = [api.get("/api/v1/me/").status_code for _ in range(6)]
    assert codes == [200] * 5 + [429]
    other = Token.objects.create(user=make_user(Role.EXECUTIVE))
    assert Client(HTTP_AUTHORIZATION=f"Token {other.key}").get("/api/v1/me/").status_code == 200  # per user
    assert caches["throttle"].__class__.__name__ == "DatabaseCache"
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM townsquare_cache")
        assert cursor.fetchone()[0] >= 2  # the counts live in the database, shared by every process
