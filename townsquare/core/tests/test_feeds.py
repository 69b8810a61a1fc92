from __future__ import annotations

import hashlib
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.test import Client

from townsquare.core.feeds import feed_token_issue
from townsquare.core.roles import Role

pytestmark = pytest.mark.django_db

CHECKOUT = Path(__file__).resolve().parents[3]


def test_a_feed_needs_a_session_or_a_valid_token(client, make_user) -> None:
    reader = make_user(Role.EXECUTIVE)
    assert client.get("/board/done/feed.atom").status_code == 403
    assert client.get("/board/done/feed.atom?token=forged").status_code == 403
    response = client.get(f"/board/done/feed.atom?token={feed_token_issue(user=reader)}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")


def test_a_token_stops_working_when_the_user_is_deactivated(client, make_user) -> None:
    reader = make_user(Role.STAKEHOLDER_MEMBER)
    token = feed_token_issue(user=reader)
    reader.is_active = False
    reader.save()
    assert client.get(f"/reports/feed/all/?token={token}").status_code == 403


def test_a_token_carries_the_users_role(client, make_user) -> None:
    # The reports feed is for readers; every role is a reader, so check a user without any role.
    from django.contrib.auth import get_user_model

    nobody = get_user_model().objects.create_user("nobody", "nobody@example.com", "pw")
    assert client.get(f"/reports/feed/all/?token={feed_token_issue(user=nobody)}").status_code == 403


def test_a_feed_token_is_stored_only_as_a_digest(make_user) -> None:
    from townsquare.core.models import FeedToken

    reader = make_user(Role.EXECUTIVE)
    token = feed_token_issue(user=reader)
    row = FeedToken.objects.get(user=reader)
    assert token not in (row.digest, row.password_mark) and len(token) >= 40
    assert row.digest == hashlib.sha256(token.encode()).hexdigest()


def test_the_account_page_shows_the_links_once_and_revokes_them(client, make_user) -> None:
    reader = make_user(Role.STAKEHOLDER_MEMBER)
    client.force_login(reader)
    made = client.post("/account/feed-token/", {"action": "issue"}).content.decode()
    assert "<title>Account · Townsquare</title>" in made and made.count('id="feeds"') == 1  # drawn once, in the page
    [link] = set(re.findall(r"/board/done/feed\.atom\?token=([\w-]+)", made))
    assert link not in client.get("/account/").content.decode()  # shown once
    client.logout()
    assert Client().get(f"/board/done/feed.atom?token={link}").status_code == 200
    client.force_login(reader)
    replaced = client.post("/account/feed-token/", {"action": "issue"}).content.decode()
    [newer] = set(re.findall(r"/board/done/feed\.atom\?token=([\w-]+)", replaced))
    assert Client().get(f"/board/done/feed.atom?token={link}").status_code == 403  # replaced
    assert Client().get(f"/board/done/feed.atom?token={newer}").status_code == 200
    client.post("/account/feed-token/", {"action": "revoke"})
    assert Client().get(f"/board/done/feed.atom?token={newer}").status_code == 403  # revoked


def test_a_password_change_voids_the_feed_token(make_user) -> None:
    reader = make_user(Role.DEVREL_MEMBER)
    token = feed_token_issue(user=reader)
    assert Client().get(f"/reports/feed/all/?token={token}").status_code == 200
    reader.set_password("a-new-pw-for-tests-456")  # as every path does: the account page, admin, changepassword
    reader.save()
    refused = Client().get(f"/reports/feed/all/?token={token}")
    assert refused.status_code == 403 and "your password changed" in refused.content.decode()


@pytest.mark.django_db(transaction=True)
def test_the_access_log_leaves_the_feed_token_out(make_user, tmp_path) -> None:
    from townsquare.testing.processes import subprocess_env
    from townsquare.testing.servers import free_port

    reader = make_user(Role.EXECUTIVE)
    token = feed_token_issue(user=reader)
    port = free_port()
    log = (tmp_path / "serve.log").open("w+")
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("townsquare")), "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        env=subprocess_env(PYTHONPATH=str(CHECKOUT)),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        status = None
        for _ in range(120):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/board/done/feed.atom?token={token}") as answer:
                    status = answer.status
                break
            except (ConnectionError, urllib.error.URLError):
                time.sleep(0.5)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    log.seek(0)
    written = log.read()
    assert status == 200, written
    assert '"GET /board/done/feed.atom HTTP/1.1" 200' in written
    assert token not in written and "token=" not in written
