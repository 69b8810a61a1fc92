"""A small hand-counted quarter: every expected figure in the tests is counted from this file, not computed.

The quarter is the previous fiscal quarter (``QUARTER``); the one before it has no data at all.

Feedback (staff never count; "in Q" means a message dated inside the quarter):
* kafka: first seen Q+2 d, addressed Q+12 d in v2.1 (10 days), routed to Engineering; in Q written by an
  enterprise person (Bigco, $500,000), a business person (Midco, $100,000) and staff.
* docs: first seen 30 days before Q, addressed Q+40 d (70 days), routed to Support; in Q one free-tier person.
* cli: first seen Q+10 d, not routed, not addressed; in Q the Midco person.
* quiet: first seen before Q, only staff wrote in Q: no community feedback.
So: 3 themes with feedback, 2 first reported in Q, 2 routed, 2 addressed, 1 for an enterprise customer,
median days to address (10, 70) = 40, paying customers 2 with $600,000, behind the addressed ones the same 2.

Requests (Marketing, 15 points; Sales, 10 points and nothing filed):
* "Launch post" (Content, service, 2 pts) filed Q+1 d, done: 2 points spent.
* "Write our own post" (Content mentoring, 1 pt) filed Q+5 d, done: 1 point spent.
* "Declined talk" (Content, service) declined: refunded, counts nowhere.
So: 2 requests taken on, 2 finished, 3 points spent of 25, mentoring share 1/3 = 33.3 %, Marketing now writes
its own Content (filed it before the mentoring, never since).

Board: one task done at Q+7 d (another after the quarter); kudos in Q: a credit and a thank-you for Sam
(Support), a thank-you for Eli (Engineering); one more thank-you after the quarter. So 1 task, 1 credit,
2 thanks, 2 people, 2 teams.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from townsquare.board.models import Column, Kudos, Task
from townsquare.core.quarters import Quarter, current_quarter, quarter_bounds
from townsquare.feedback.models import Theme, ThemeMessage
from townsquare.feedback.tests.factories import (
    AccountFactory,
    ChannelFactory,
    IdentityFactory,
    MemberFactory,
    MessageFactory,
    OrganizationFactory,
)
from townsquare.intake.models import Budget, LedgerEntry, Request, RequestType
from townsquare.people.models import Account, Team
from townsquare.people.tests.factories import TeamFactory, UserFactory

QUARTER: Quarter = current_quarter().previous()
HOSTILE_THEME = "Kafka <img src=x onerror=alert(1)> drops & loses"


@dataclass
class Corpus:
    quarter: Quarter
    kafka: Theme
    marketing: Team


def _at(days: float) -> dt.datetime:
    return quarter_bounds(QUARTER)[0] + dt.timedelta(days=days)


def _person(*, account: Account | None = None, staff: bool = False) -> Any:
    organization = account.organization if account else None
    return IdentityFactory(member=MemberFactory(organization=organization, is_staff=staff))


def _theme(title: str, *, first_seen: float, addressed: float | None = None, team: Team | None = None) -> Theme:
    return Theme.objects.create(
        title=title,
        status=Theme.Status.ADDRESSED if addressed is not None else Theme.Status.OPEN,
        department=team,
        first_seen=_at(first_seen),
        addressed_at=_at(addressed) if addressed is not None else None,
        addressed_release="v2.1" if addressed is not None else "",
    )


def _say(theme: Theme, author: Any, days: float) -> None:
    channel = ChannelFactory(source__name="GitHub", name="acme/app issues")
    ThemeMessage.objects.create(
        theme=theme, message=MessageFactory(author=author, channel=channel, created_at=_at(days)), similarity=0.9
    )


def _request(team: Team, budget: Budget, kind: RequestType, title: str, status: str, days: float, **held: int) -> None:
    request = Request.objects.create(
        team=team, budget=budget, requester=UserFactory(), type=kind, title=title, status=status, points=kind.points
    )
    Request.objects.filter(pk=request.pk).update(created_at=_at(days))
    LedgerEntry.objects.create(budget=budget, request=request, kind=LedgerEntry.Kind.SPEND, **held)


def build_corpus() -> Corpus:
    engineering = TeamFactory(name="Engineering", kind=Team.Kind.ENGINEERING)
    support = TeamFactory(name="Support", kind=Team.Kind.SUPPORT)
    marketing = TeamFactory(name="Marketing", kind=Team.Kind.MARKETING)
    sales = TeamFactory(name="Sales", kind=Team.Kind.SALES)

    bigco = AccountFactory(organization=OrganizationFactory(name="Bigco"), tier="enterprise", annual_revenue=500_000)
    midco = AccountFactory(organization=OrganizationFactory(name="Midco"), tier="business", annual_revenue=100_000)
    big, mid, free, staff = _person(account=bigco), _person(account=midco), _person(), _person(staff=True)

    kafka = _theme(HOSTILE_THEME, first_seen=2, addressed=12, team=engineering)
    for author, day in ((big, 3), (mid, 4), (staff, 5)):
        _say(kafka, author, day)
    docs = _theme("Docs search finds nothing", first_seen=-30, addressed=40, team=support)
    _say(docs, free, 6)
    cli = _theme("CLI login loops", first_seen=10)
    _say(cli, mid, 11)
    quiet = _theme("Quiet theme", first_seen=-50)
    _say(quiet, staff, 12)

    mentoring = RequestType.objects.create(name="Content mentoring", slug="content-mentoring", points=1,
                                           mode=RequestType.Mode.MENTORING)  # fmt: skip
    content = RequestType.objects.create(name="Content", slug="content", points=2, mentoring_alternative=mentoring)
    budget = Budget.objects.create(team=marketing, quarter=QUARTER.key, points=15)
    Budget.objects.create(team=sales, quarter=QUARTER.key, points=10)
    _request(marketing, budget, content, "Launch post", Request.Status.DONE, 1, spent=2)
    _request(marketing, budget, mentoring, "Write our own post", Request.Status.DONE, 5, spent=1)
    _request(marketing, budget, content, "Declined talk", Request.Status.DECLINED, 8)

    owner = UserFactory()
    done = Task.objects.create(title="Kafka guide", owner=owner, column=Column.DONE, done_at=_at(7))
    Task.objects.create(title="Later guide", owner=owner, column=Column.DONE, done_at=_at(200))
    sam = UserFactory(first_name="Sam", last_name="Patel")
    eli = UserFactory(first_name="Eli", last_name="Novak")
    for kind, user, team, day in (
        (Kudos.Kind.CREDIT, sam, support, 7),
        (Kudos.Kind.THANKS, sam, support, 8),
        (Kudos.Kind.THANKS, eli, engineering, 9),
        (Kudos.Kind.THANKS, eli, engineering, 200),
    ):
        kudos = Kudos.objects.create(kind=kind, task=done, user=user, team=team, message="thanks")
        Kudos.objects.filter(pk=kudos.pk).update(created_at=_at(day))
    return Corpus(quarter=QUARTER, kafka=kafka, marketing=marketing)
