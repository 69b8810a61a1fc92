"""Community health figures (CHAOSS definitions) from the compact activity table in ``corpus.py``.

Every figure is computed per scope: all sources together, and each source on its own. Staff and bots are
kept apart: bots count in no figure, staff appear as their own series, and "community" means neither.
A contribution is a message (an issue, a comment, a post, a chat line, an email).

Definitions, each from its CHAOSS page:

* Contributors, https://chaoss.community/kb/metric-contributors/ : people with at least one
  contribution in the month.
* New Contributors, https://chaoss.community/kb/metric-new-contributors/ : people whose first
  contribution *ever* (in any source, over all stored history) falls in the month; per source, those whose
  first contribution ever was in that source.
* Inactive Contributors, https://chaoss.community/kb/metric-inactive-contributors/ : people who
  contributed in the twelve months before the last three, and not in the last three (the month and the two
  before it).
* Retention of new contributors (a cohort view over New Contributors): of the people who joined in a
  month, how many contributed again 30 days or more, and 90 days or more, after their first contribution.
  A cohort too young to tell is a gap, not a zero.
* Time to First Response, https://chaoss.community/kb/metric-time-to-first-response/ : for every
  question, issue, pull request and thread opener, the time to the first reply by someone other than the
  author (never the author's own follow-up, unlike Augur's implementation; a bot's greeting is no
  response). Medians and 90th percentiles use linear interpolation between ranks (numpy's default).
* Contributor Absence Factor, https://chaoss.community/kb/metric-contributor-absence-factor/ : the
  smallest number of people who together make at least 50 % of the quarter's contributions.
* Elephant Factor, https://chaoss.community/kb/metric-elephant-factor/ : the smallest number of
  organisations whose people make at least 50 % of the affiliated contributions. Staff without an
  organisation count as one organisation (the company itself); unaffiliated people are left out.
* Organizational Diversity, https://chaoss.community/kb/metric-organizational-diversity/ : how many
  organisations contribute, and the shares of unaffiliated, customer and top-organisation contributions.
* Core / regular / casual (the "onion" split of GrimoireLab, used with CHAOSS Contributors): sorted by
  contributions in the quarter, core people make the first 80 %, regular the next 15 %, casual the last 5 %.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from townsquare.core.quarters import quarter_of
from townsquare.metrics.corpus import BOT, COMMUNITY, DAY, STAFF, UNKNOWN, Corpus, IntArray, month_label, month_start

UNANSWERED_KEPT = 200  # the newest unanswered openers listed per scope (the count covers all of them)
STAFF_ORG = -1  # the company's own organisation, for staff with none


def chaoss(slug: str) -> str:
    return f"https://chaoss.community/kb/metric-{slug}/"


def _smallest_share(values: IntArray, share: float) -> int:
    """Smallest number of the largest values whose sum reaches ``share`` of the total (0 when empty)."""
    total = int(values.sum())
    if total <= 0:
        return 0
    cumulative = np.cumsum(np.sort(values)[::-1])
    return int(np.argmax(cumulative * 100 >= share * 100 * total)) + 1


def onion(values: IntArray) -> tuple[int, int, int]:
    """(core, regular, casual) people: the first 80 %, the next 15 % and the last 5 % of contributions."""
    values = values[values > 0]
    if not len(values):
        return 0, 0, 0
    core = _smallest_share(values, 0.80)
    regular_end = _smallest_share(values, 0.95)
    return core, regular_end - core, len(values) - regular_end


def _hours(seconds: IntArray, q: float) -> float | None:
    if not len(seconds):
        return None
    return round(float(np.percentile(seconds, q)) / 3600, 2)


def _by_month(keys: IntArray, m0: int, n: int) -> list[int]:
    return np.bincount(keys - m0, minlength=n)[:n].tolist() if len(keys) else [0] * n


def health_figures(corpus: Corpus, *, source: int | None) -> dict[str, Any]:
    """The health figures of one scope (``source`` is a source index, None = all sources) as plain JSON."""
    span = corpus.months
    if span is None:
        return {"months": [], "quarters": [], "empty": True}
    m0, m_last = span
    n = m_last - m0 + 1
    months = [month_label(m0 + i) for i in range(n)]
    in_scope = np.ones(len(corpus.person), dtype=bool) if source is None else corpus.source == source
    if not in_scope.any():
        return {"months": months, "quarters": [], "empty": True}
    scope_first = int(corpus.month[in_scope].min()) - m0  # before the source's first message: a gap

    def gap(values: list[Any]) -> list[Any]:
        return [None if i < scope_first else v for i, v in enumerate(values)]

    figures: dict[str, Any] = {"months": months, "empty": False}
    person, klass, month = corpus.person[in_scope], corpus.klass[in_scope], corpus.month[in_scope]
    count = corpus.count[in_scope]

    # Contributors and messages per month, by who wrote them.
    contributors: dict[str, list[Any]] = {}
    messages: dict[str, list[Any]] = {}
    for name, code in (("community", COMMUNITY), ("staff", STAFF), ("bots", BOT), ("unknown", UNKNOWN)):
        mask = klass == code
        messages[name] = gap(np.bincount(month[mask] - m0, weights=count[mask], minlength=n).astype(int).tolist())
        if code in (COMMUNITY, STAFF):
            pairs = np.unique(person[mask] * n + (month[mask] - m0))
            contributors[name] = gap(np.bincount(pairs % n, minlength=n).tolist())
    figures["contributors"], figures["messages"] = contributors, messages

    # New contributors: first contribution ever, here (per source: the first one ever was in this source).
    first = corpus.person_first
    joined = first >= 0
    if source is not None:
        joined &= corpus.person_first_source == source
    join_month = np.where(joined, _months_of(first), -1)
    figures["new_contributors"] = {
        name: gap(_by_month(join_month[joined & (corpus.person_class == code)], m0, n))
        for name, code in (("community", COMMUNITY), ("staff", STAFF))
    }
    figures["inactive_contributors"] = gap(_inactive(person[klass == COMMUNITY], month[klass == COMMUNITY], m0, n))
    figures["retention"] = _retention(corpus, joined & (corpus.person_class == COMMUNITY), join_month, m0, n)
    figures.update(_response_times(corpus, source, m0, n))
    figures.update(_quarterly(corpus, in_scope, m0, n))
    return figures


def _months_of(epoch: IntArray) -> IntArray:
    safe = np.where(epoch >= 0, epoch, 0)
    return np.where(epoch >= 0, safe.astype("datetime64[s]").astype("datetime64[M]").astype(np.int64), -1)


def _inactive(person: IntArray, month: IntArray, m0: int, n: int, *, chunk: int = 8192) -> list[int]:
    """People active in months [M-14, M-3] and silent in [M-2, M], for each month M (dense, in chunks)."""
    out = np.zeros(n, dtype=np.int64)
    people, inverse = np.unique(person, return_inverse=True)
    for start in range(0, len(people), chunk):
        rows = (inverse >= start) & (inverse < start + chunk)
        active = np.zeros((min(chunk, len(people) - start), n + 1), dtype=np.int32)
        active[inverse[rows] - start, month[rows] - m0 + 1] = 1
        cumulative = np.cumsum(active, axis=1)  # cumulative[:, k] = active months among the first k

        def window(lo: int, hi: int, cumulative: np.ndarray = cumulative) -> np.ndarray:
            """Active months in [M+lo, M+hi] for every M, as a (people, n) array."""
            index = np.arange(n)
            top = np.clip(index + hi + 1, 0, n)
            bottom = np.clip(index + lo, 0, n)
            return cumulative[:, top] - cumulative[:, bottom]

        out += ((window(-14, -3) > 0) & (window(-2, 0) == 0)).sum(axis=0)
    return out.tolist()


def _retention(corpus: Corpus, joined: np.ndarray, join_month: IntArray, m0: int, n: int) -> list[dict[str, Any]]:
    """Per joining month: new community people, and how many were back 30 / 90 days after their first."""
    data_end = int(corpus.last.max())
    rows = []
    first, last = corpus.person_first[joined], corpus.person_last[joined]
    cohort = join_month[joined] - m0
    new = np.bincount(cohort, minlength=n)
    back = {d: np.bincount(cohort[last >= first + d * DAY], minlength=n) for d in (30, 90)}
    for i in range(n):
        if not new[i]:
            continue
        next_month = m0 + i + 1
        month_end = int(np.datetime64(month_start(next_month).isoformat(), "s").astype(np.int64))
        row: dict[str, Any] = {"month": month_label(m0 + i), "new": int(new[i])}
        for d in (30, 90):
            # Everyone in the cohort must have had d days to come back, or the figure would look low.
            row[f"d{d}"] = int(back[d][i]) if month_end + d * DAY <= data_end else None
        rows.append(row)
    return rows


def _response_times(corpus: Corpus, source: int | None, m0: int, n: int) -> dict[str, Any]:
    t = corpus.threads
    mask = np.isin(t.klass, (COMMUNITY, UNKNOWN))  # the community's questions; staff announcements aside
    if source is not None:
        mask &= t.source == source
    created, month = t.created[mask], t.month[mask] - m0
    first_any, first_com, first_staff = t.first_any[mask], t.first_community[mask], t.first_staff[mask]
    answered = first_any >= 0
    delay = np.where(answered, first_any - created, -1)
    by_community = answered & (first_com == first_any)  # a tie goes to the community
    by_staff = answered & ~by_community
    series: dict[str, list[Any]] = {
        key: []
        for key in (
            "openers",
            "answered",
            "by_community",
            "by_staff",
            "median_h",
            "p90_h",
            "median_h_community",
            "median_h_staff",
            "within_24h",
            "within_7d",
        )
    }
    order = np.argsort(month, kind="stable")
    bounds = np.searchsorted(month[order], np.arange(n + 1))
    for i in range(n):
        idx = order[bounds[i] : bounds[i + 1]]
        total = len(idx)
        ok = idx[answered[idx]]
        com = idx[first_com[idx] >= 0]
        stf = idx[first_staff[idx] >= 0]
        series["openers"].append(total)
        series["answered"].append(len(ok))
        series["by_community"].append(int(by_community[idx].sum()))
        series["by_staff"].append(int(by_staff[idx].sum()))
        series["median_h"].append(_hours(delay[ok], 50))
        series["p90_h"].append(_hours(delay[ok], 90))
        series["median_h_community"].append(_hours(first_com[com] - created[com], 50))
        series["median_h_staff"].append(_hours(first_staff[stf] - created[stf], 50))
        series["within_24h"].append(round(float((delay[ok] <= DAY).sum()) / total, 4) if total else None)
        series["within_7d"].append(round(float((delay[ok] <= 7 * DAY).sum()) / total, 4) if total else None)
    waiting = np.flatnonzero(~answered & t.listed[mask])
    newest = waiting[np.argsort(-created[waiting], kind="stable")][:UNANSWERED_KEPT]
    return {
        "ttfr": series,
        "ttfr_overall": {
            "openers": len(created),
            "answered": int(answered.sum()),
            "median_h": _hours(delay[answered], 50),
            "p90_h": _hours(delay[answered], 90),
        },
        "unanswered_count": len(waiting),
        "unanswered": t.message_id[mask][newest].tolist(),
    }


def _quarterly(corpus: Corpus, in_scope: np.ndarray, m0: int, n: int) -> dict[str, Any]:
    """Contributor Absence Factor, Elephant Factor, Organizational Diversity and the onion, per quarter."""
    of_month = [quarter_of(month_start(m0 + i)) for i in range(n)]
    keys = [q.key for q in of_month]
    quarters = list(dict.fromkeys(keys))
    quarter_of_month = np.array([quarters.index(k) for k in keys], dtype=np.int64)
    humans = in_scope & np.isin(corpus.klass, (COMMUNITY, STAFF))
    person, klass = corpus.person[humans], corpus.klass[humans]
    quarter, count = quarter_of_month[corpus.month[humans] - m0], corpus.count[humans]
    org = corpus.org[person]
    org = np.where((org == 0) & (klass == STAFF), STAFF_ORG, org)
    customers = np.array(sorted(corpus.customer_orgs), dtype=np.int64)
    out: dict[str, Any] = {"quarters": quarters, "quarter_labels": list(dict.fromkeys(q.label for q in of_month))}
    rows: dict[str, list[Any]] = {
        k: []
        for k in (
            "caf_community",
            "caf_everyone",
            "elephant",
            "organizations",
            "customer_organizations",
            "unaffiliated_share",
            "customer_share",
            "core",
            "regular",
            "casual",
            "top_organizations",
        )
    }
    order = np.argsort(quarter, kind="stable")
    bounds = np.searchsorted(quarter[order], np.arange(len(quarters) + 1))
    for q in range(len(quarters)):
        idx = order[bounds[q] : bounds[q + 1]]
        per_person = _sum_by(person[idx], count[idx])
        community = idx[klass[idx] == COMMUNITY]
        per_community = _sum_by(person[community], count[community])
        rows["caf_community"].append(_smallest_share(per_community, 0.5) if len(community) else None)
        rows["caf_everyone"].append(_smallest_share(per_person, 0.5) if len(idx) else None)
        core, regular, casual = onion(per_community)
        rows["core"].append(core)
        rows["regular"].append(regular)
        rows["casual"].append(casual)
        total = int(count[idx].sum())
        affiliated = idx[org[idx] != 0]
        org_ids = np.unique(org[affiliated])
        org_counts = _sum_by(org[affiliated], count[affiliated])
        rows["elephant"].append(_smallest_share(org_counts, 0.5) if len(affiliated) else None)
        rows["organizations"].append(int((org_ids > 0).sum()))
        is_customer = np.isin(org_ids, customers)
        rows["customer_organizations"].append(int(is_customer.sum()))
        rows["unaffiliated_share"].append(round(1 - int(count[affiliated].sum()) / total, 4) if total else None)
        rows["customer_share"].append(round(int(org_counts[is_customer].sum()) / total, 4) if total else None)
        top = np.argsort(-org_counts, kind="stable")[:5]
        rows["top_organizations"].append(
            [[int(org_ids[i]), round(int(org_counts[i]) / total, 4)] for i in top] if total else []
        )
    out.update(rows)
    return out


def _sum_by(keys: IntArray, weights: IntArray) -> IntArray:
    """Sum ``weights`` per distinct key, in the order of ``np.unique(keys)``."""
    if not len(keys):
        return np.zeros(0, dtype=np.int64)
    _, inverse = np.unique(keys, return_inverse=True)
    return np.bincount(inverse, weights=weights).astype(np.int64)
