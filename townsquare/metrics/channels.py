"""The channel map: where the community talks, how channels overlap, and what retiring some would cost.

A channel is a **source** (see ``corpus.py``). The map covers one window of the data (its last 3 or 12
months, or all of it) and counts community people only: staff are shown beside them as a column, bots
nowhere.

People are grouped by the exact set of channels they were active on. A community of 50,000 people on ten
channels has a few hundred such sets, so the stored map is small, holds no one's identity, and a
consolidation scenario is arithmetic over those sets (milliseconds), not a query.

* Newcomers: people whose first contribution ever falls in the window (CHAOSS New Contributors).
* Core: the smallest group making 80 % of the window's community contributions (see ``health.onion``).
* A channel's newcomer share is the share of its active people who are newcomers; its core share the
  share who are core. "Entry" counts where newcomers made their very first contribution.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import median
from typing import Any

import numpy as np

from townsquare.metrics.corpus import COMMUNITY, STAFF, Corpus
from townsquare.metrics.health import onion

WINDOWS = {"3m": 3, "12m": 12, "all": None}


def channel_map(corpus: Corpus, *, window: str) -> dict[str, Any]:
    """The map of one window as plain JSON (source ids, counts and channel sets; no people)."""
    span = corpus.months
    sources = corpus.source_ids
    if span is None:
        return {"sources": sources, "empty": True}
    length = WINDOWS[window]
    lo = span[0] if length is None else max(span[0], span[1] - length + 1)
    in_window = (corpus.month >= lo) & (corpus.month <= span[1])
    community = in_window & (corpus.klass == COMMUNITY)
    person, source, count = corpus.person[community], corpus.source[community], corpus.count[community]
    s = len(sources)
    staff = in_window & (corpus.klass == STAFF)
    staff_people: Any = (
        np.bincount(np.unique(corpus.person[staff] * s + corpus.source[staff]) % s, minlength=s) if s else []
    )
    if not len(person):
        return {"sources": sources, "empty": True, "from": lo, "to": span[1]}

    people, inverse = np.unique(person, return_inverse=True)
    active = np.zeros((len(people), s), dtype=bool)
    active[inverse, source] = True
    per_person = np.bincount(inverse, weights=count).astype(np.int64)
    core_size = onion(per_person)[0]
    core = np.zeros(len(people), dtype=bool)
    core[np.argsort(-per_person, kind="stable")[:core_size]] = True
    first = corpus.person_first[people]
    window_start = int(np.datetime64(f"{1970 + lo // 12:04d}-{lo % 12 + 1:02d}", "s").astype(np.int64))
    newcomer = first >= window_start
    entry = np.where(newcomer, corpus.person_first_source[people], -1)

    here = active.sum(axis=0)
    single = active.sum(axis=1) == 1
    channels = []
    for i in range(s):
        n = int(here[i])
        channels.append(
            {
                "source": sources[i],
                "people": n,
                "staff": int(staff_people[i]),
                "messages": int(count[source == i].sum()),
                "newcomers": int((active[:, i] & newcomer).sum()),
                "entry": int((entry == i).sum()),
                "core": int((active[:, i] & core).sum()),
                "only_here": int((active[:, i] & single).sum()),
            }
        )
    combos, combo_of, combo_people = np.unique(active, axis=0, return_inverse=True, return_counts=True)
    combo_of = combo_of.reshape(-1)
    # Paying customers: community people whose organisation is an account, per channel set.
    account = np.array([corpus.customer_orgs.get(int(o), 0) for o in corpus.org[people]], dtype=np.int64)
    paying = account > 0
    customers: list[list[int]] = []
    if paying.any():
        pairs, pair_people = np.unique(
            np.stack([combo_of[paying], account[paying]], axis=1), axis=0, return_counts=True
        )
        customers = [[int(c), int(a), int(k)] for (c, a), k in zip(pairs, pair_people, strict=True)]
    return {
        "sources": sources,
        "empty": False,
        "from": lo,
        "to": span[1],
        "people": len(people),
        "newcomers": int(newcomer.sum()),
        "core": core_size,
        "channels": channels,
        "overlap": (active.T.astype(np.int64) @ active.astype(np.int64)).tolist(),
        "combos": [[np.flatnonzero(c).tolist(), int(k)] for c, k in zip(combos, combo_people, strict=True)],
        "customers": customers,
    }


@dataclass
class Scenario:
    """What retiring ``retire`` into ``destination`` (None: a channel nobody uses yet) would do."""

    retire: list[int]
    destination: int | None
    people: int = 0
    affected: int = 0
    already_there: int = 0
    must_move: int = 0
    only_retired: int = 0
    channels_before_mean: float = 0.0
    channels_after_mean: float = 0.0
    channels_before_median: float = 0.0
    channels_after_median: float = 0.0
    customers_affected: dict[int, int] = field(default_factory=dict)  # account id -> people
    customers_at_risk: dict[int, int] = field(default_factory=dict)  # their people are only on retired channels


def scenario_run(data: dict[str, Any], *, retire: list[int], destination: int | None) -> Scenario:
    """Apply a consolidation to a stored map. Ids are Source pks; unknown ones are ignored."""
    result = Scenario(retire=retire, destination=destination)
    if data.get("empty"):
        return result
    index = {pk: i for i, pk in enumerate(data["sources"])}
    gone = {index[pk] for pk in retire if pk in index}
    target = index.get(destination) if destination is not None else None
    before: list[tuple[int, int]] = []
    after: list[tuple[int, int]] = []
    touched: set[int] = set()
    lost: set[int] = set()
    for number, (combo, people) in enumerate(data["combos"]):
        channels = set(combo)
        result.people += people
        before.append((len(channels), people))
        hit = bool(channels & gone)
        if hit:
            touched.add(number)
            result.affected += people
            if target is not None and target in channels:
                result.already_there += people
            else:
                result.must_move += people
            if channels <= gone:
                lost.add(number)
                result.only_retired += people
            remaining = channels - gone
            after.append((len(remaining | {target}) if target is not None else len(remaining) + 1, people))
        elif not gone and target is None:
            after.append((len(channels) + 1, people))  # adding a channel: one more place for everyone to check
        else:
            after.append((len(channels), people))
    for combo, account, people in data["customers"]:
        if combo in touched:
            result.customers_affected[account] = result.customers_affected.get(account, 0) + people
        if combo in lost:
            result.customers_at_risk[account] = result.customers_at_risk.get(account, 0) + people
    result.channels_before_mean, result.channels_before_median = _weighted(before)
    result.channels_after_mean, result.channels_after_median = _weighted(after)
    return result


def _weighted(values: list[tuple[int, int]]) -> tuple[float, float]:
    """Mean and median of channel counts, each weighted by its number of people."""
    total = sum(k for _, k in values)
    if not total:
        return 0.0, 0.0
    mean = sum(v * k for v, k in values) / total
    expanded = sorted(values)
    # The weighted median: the value at the middle person (or the mean of the two middle ones).
    middle = [(total - 1) // 2, total // 2]
    picked, seen = [], 0
    for value, k in expanded:
        while middle and middle[0] < seen + k:
            picked.append(value)
            middle.pop(0)
        seen += k
    return round(mean, 2), float(median(picked))
