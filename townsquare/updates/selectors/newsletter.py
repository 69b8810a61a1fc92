"""Reads for the link drop, newsletter issues and review, and the DevRel-share series for the value report."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Count, Q, QuerySet, Sum
from django.http import Http404
from django.urls import reverse

from townsquare.board.models import Column, Task, Visibility
from townsquare.core import roles
from townsquare.feedback.models import Theme
from townsquare.people.models import Team
from townsquare.updates.models import DroppedLink, Newsletter, NewsletterSection, ReviewComment, SectionRevision

RELEASE_LABELS = ("release", "releases")
CANDIDATE_LIMIT = 15


def is_marketer(user: User | AnonymousUser) -> bool:
    """The community marketer: a stakeholder (member or lead) of a team whose kind is Marketing, or an admin.

    One explicit rule, visible on the team page: put the marketer in a Marketing-kind team.
    """
    user_roles = roles.roles_of(user)
    if roles.Role.ADMIN in user_roles:
        return True
    if not isinstance(user, User) or not user_roles & roles.STAKEHOLDERS:
        return False
    return Team.objects.filter(kind=Team.Kind.MARKETING, memberships__user=user).exists()


def can_drop_links(user: User | AnonymousUser) -> bool:
    return roles.has_role(user, roles.DEVREL | roles.STAKEHOLDERS)


def can_review(user: User | AnonymousUser) -> bool:
    return roles.has_role(user, roles.DEVREL)


def links_recent() -> QuerySet[DroppedLink]:
    return DroppedLink.objects.select_related("dropped_by").order_by("-created_at", "-id")


def newsletter_list() -> QuerySet[Newsletter]:
    return (
        Newsletter.objects.select_related("owner", "decided_by")
        .annotate(section_count=Count("sections", distinct=True))
        .order_by("-period_end", "-id")
    )


def newsletter_get_for_user(user: User | AnonymousUser, pk: int) -> Newsletter:
    """Every reader role reads every issue; anyone else gets a 404 (the views already 403 them)."""
    if not roles.has_role(user, roles.READERS):
        raise Http404("no such newsletter")
    newsletter = Newsletter.objects.select_related("owner", "decided_by").filter(pk=pk).first()
    if newsletter is None:
        raise Http404("no such newsletter")
    return newsletter


def newsletter_sections(newsletter: Newsletter) -> list[NewsletterSection]:
    return list(newsletter.sections.select_related("link").order_by("position", "id"))


def newsletter_comments(newsletter: Newsletter) -> list[ReviewComment]:
    return list(newsletter.comments.select_related("author", "resolved_by", "section").order_by("created_at", "id"))


def newsletter_history(newsletter: Newsletter, *, limit: int = 100) -> list[SectionRevision]:
    return list(newsletter.revisions.select_related("author").order_by("-created_at", "-id")[:limit])


def section_get(newsletter: Newsletter, pk: int) -> NewsletterSection:
    section = newsletter.sections.filter(pk=pk).first()
    if section is None:
        raise Http404("no such section in this issue")
    return section


def comment_get(newsletter: Newsletter, pk: int) -> ReviewComment:
    comment = newsletter.comments.select_related("section", "author").filter(pk=pk).first()
    if comment is None:
        raise Http404("no such comment in this issue")
    return comment


# ---------------------------------------------------------------- what an issue can be built from


@dataclass(frozen=True)
class Candidate:
    """Something the marketer may turn into a section, with a first heading and text to rewrite."""

    source_key: str
    kind: str
    heading: str
    body: str
    url: str
    detail: str
    link_id: int | None = None


def _period_bounds(newsletter: Newsletter) -> tuple[dt.datetime, dt.datetime]:
    from django.utils import timezone

    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(newsletter.period_start, dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(newsletter.period_end + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    return start, end


def newsletter_candidates(newsletter: Newsletter) -> dict[str, list[Candidate]]:
    """The period's dropped links, releases, finished content and top curated threads not yet used."""
    start, end = _period_bounds(newsletter)
    used = set(newsletter.sections.exclude(source_key="").values_list("source_key", flat=True))
    kind = NewsletterSection.Kind

    # Fetch only as many rows as can be shown once the used ones are skipped.
    limit = CANDIDATE_LIMIT + len(used)
    link_rows = links_recent().filter(created_at__gte=start, created_at__lt=end)
    dropped = [
        Candidate(
            source_key=f"link:{link.pk}",
            kind=kind.LINK,
            heading=link.title or link.url,
            body=link.note,
            url=link.url,
            detail=f"dropped by {link.dropped_by_name}",
            link_id=link.pk,
        )
        for link in link_rows[:limit]
        if f"link:{link.pk}" not in used
    ][:CANDIDATE_LIMIT]

    tasks = (
        Task.objects.filter(column=Column.DONE, visibility=Visibility.PUBLIC, done_at__gte=start, done_at__lt=end)
        .annotate(is_release=Count("labels", filter=Q(labels__slug__in=RELEASE_LABELS)))
        .only("id", "title", "description", "done_at")
        .order_by("-done_at", "-id")[: limit + CANDIDATE_LIMIT]
    )
    releases: list[Candidate] = []
    content: list[Candidate] = []
    # The task page's URL is built from one reverse(): reversing per task was a third of this function.
    tasks_url = settings.BASE_URL + reverse("board:tasks")
    for task in tasks:
        key = f"task:{task.pk}"
        if key in used:
            continue
        if len(releases) >= CANDIDATE_LIMIT and len(content) >= CANDIDATE_LIMIT:
            break
        target = releases if task.is_release else content
        target.append(
            Candidate(
                source_key=key,
                kind=kind.RELEASE if task.is_release else kind.CONTENT,
                heading=task.title,
                body=task.description[:1000],
                url=f"{tasks_url}{task.pk}/",
                detail=f"finished {task.done_at:%Y-%m-%d}" if task.done_at else "finished",
            )
        )
    addressed = Theme.objects.filter(
        status=Theme.Status.ADDRESSED, addressed_at__gte=start, addressed_at__lt=end
    ).exclude(addressed_release="")
    theme_fields = ("id", "title", "summary", "why_now", "issue_url", "status", "people_count", "addressed_release")
    for theme in addressed.only(*theme_fields).order_by("-people_count", "-id")[:limit]:
        key = f"release-theme:{theme.pk}"
        if key not in used:
            releases.append(
                Candidate(
                    source_key=key,
                    kind=kind.RELEASE,
                    heading=f"{theme.addressed_release}: {theme.title}",
                    body=theme.why_now[:1000],
                    url=theme.issue_url,
                    detail=f"asked by {theme.people_count} people",
                )
            )

    curated = Q(title_curated=True) | Q(status__in=[Theme.Status.ROUTED, Theme.Status.ADDRESSED])
    themes = (
        Theme.objects.filter(curated, last_seen__gte=start, first_seen__lt=end)
        .exclude(status__in=[Theme.Status.MERGED, Theme.Status.ARCHIVED])
        .only(*theme_fields)
        .order_by("-people_count", "-score", "-id")[:limit]
    )
    threads = [
        Candidate(
            source_key=f"theme:{theme.pk}",
            kind=kind.THREAD,
            heading=theme.title,
            body=(theme.summary or theme.why_now)[:1000],
            url=theme.issue_url,
            detail=f"{theme.people_count} people" + (" · answered" if theme.status == Theme.Status.ADDRESSED else ""),
        )
        for theme in themes
        if f"theme:{theme.pk}" not in used
    ][:CANDIDATE_LIMIT]
    return {
        "links": dropped,
        "releases": releases[:CANDIDATE_LIMIT],
        "content": content[:CANDIDATE_LIMIT],
        "threads": threads,
    }


def candidate_get(newsletter: Newsletter, source_key: str) -> Candidate:
    for group in newsletter_candidates(newsletter).values():
        for candidate in group:
            if candidate.source_key == source_key:
                return candidate
    raise Http404("that item is not a candidate for this issue (already used, or outside its period)")


# ---------------------------------------------------------------- mentoring evidence


@dataclass(frozen=True)
class DevrelShare:
    newsletter_id: int
    title: str
    period_end: dt.date
    devrel_chars: int
    total_chars: int

    @property
    def share(self) -> float:
        """DevRel's characters over all characters written into the issue, 0.0 to 1.0 (0.0 when empty)."""
        return self.devrel_chars / self.total_chars if self.total_chars else 0.0

    @property
    def percent(self) -> int:
        return round(self.share * 100)


def devrel_text_share(*, since: dt.date | None = None, until: dt.date | None = None) -> list[DevrelShare]:
    """The share of each issue's text that DevRel wrote, oldest issue first (the value report's series).

    Counted from the history: every added, edited or accepted-suggestion revision adds the characters
    its author wrote (a diff against the text before), on the author's side at the time. Issues whose
    ``period_end`` falls in [since, until] are listed, each once, also when nothing was written yet.
    A falling series is the mentoring evidence: the marketer writes more, DevRel less.
    """
    issues = Newsletter.objects.all()
    if since:
        issues = issues.filter(period_end__gte=since)
    if until:
        issues = issues.filter(period_end__lte=until)
    rows = issues.annotate(
        devrel_chars=Sum("revisions__chars_written", filter=Q(revisions__by_devrel=True), default=0),
        total_chars=Sum("revisions__chars_written", default=0),
    ).order_by("period_end", "id")
    return [
        DevrelShare(
            newsletter_id=row.pk,
            title=row.title,
            period_end=row.period_end,
            devrel_chars=int(row.devrel_chars),
            total_chars=int(row.total_chars),
        )
        for row in rows.only("id", "title", "period_end")
    ]
