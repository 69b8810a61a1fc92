from __future__ import annotations

import datetime as dt

from townsquare.reports.services import Quote, ThemeFacts

MONDAY = dt.date(2026, 11, 16)


def facts(
    title: str = "Kafka connector drops messages",
    *,
    theme_id: int | None = 1,
    score: float = 10.0,
    people: int = 5,
    last_week: int = 2,
    customers: int = 2,
    **extra,
) -> ThemeFacts:  # type: ignore[no-untyped-def]
    tiers = ["enterprise", "business", "team"]
    return ThemeFacts(
        theme_id=theme_id,
        title=title,
        summary="",
        key_phrases=["kafka", "connector"],
        message_count=people * 2,
        people_count=people,
        people_last_week=last_week,
        customers=[
            {"name": f"Customer {i}", "tier": tiers[i % 3], "annual_revenue": 100000 * (i + 1)}
            for i in range(customers)
        ],
        channels=["GitHub", "Slack #help", "Discourse"],
        score=score,
        note=extra.pop("note", ""),
        quotes=[
            Quote(
                text=f"{title}: it happened again",
                author=f"user{i}",
                channel="Slack #help",
                url=f"https://chat.example.com/m/{i}",
                message_id=i,
            )
            for i in range(6)
        ],
        threads=[
            {"title": f"Thread {i}", "url": f"https://github.com/acme/kafka/issues/{i}", "channel": "GitHub"}
            for i in range(3)
        ],
        **extra,
    )
