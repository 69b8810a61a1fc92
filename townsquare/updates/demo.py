"""Demo audience updates: a sales and a support audience, one sent update and a question DevRel answered.

Call after the board and feedback demos (it reads their finished tasks and themes). Idempotent: audiences are
found by name, the update by its period, the question by its text.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from townsquare.core.weeks import company_tz
from townsquare.people.models import Team
from townsquare.updates.models import Audience, Part, Question
from townsquare.updates.services import digests as services

QUESTION = "Customers keep asking about the streaming demo. What else is there we can show in a first call?"
ANSWER = (
    "The 10-minute streaming demo is on the board and nearly done; until then, the Kafka tutorial walks through the "
    "same pipeline. Happy to join your next call."
)


@transaction.atomic
def updates_demo_load() -> dict[str, int]:
    User = get_user_model()
    dana = User.objects.filter(username="dana").first()
    sofia = User.objects.filter(username="sofia").first()
    audiences = []
    for name, slug, parts, weekday in (
        ("Sales", "sales", [Part.WORK, Part.THEMES, Part.EVENTS, Part.NOTE], 0),
        ("Support", "support", [Part.WORK, Part.THEMES, Part.SUPPORT, Part.EVENTS, Part.NOTE], 1),
    ):
        team = Team.objects.filter(slug=slug).first()
        if team is None:
            continue
        audience = Audience.objects.filter(name=name).first() or services.audience_save(
            name=name,
            team=team,
            destination=None,
            cadence=Audience.Cadence.WEEKLY,
            weekday=weekday,
            hour=9,
            parts=parts,
        )
        audiences.append(audience)
    sales = next((a for a in audiences if a.name == "Sales"), None)
    questions = 0
    if sales is not None and dana is not None:
        today = timezone.now().astimezone(company_tz()).date()
        monday = today - dt.timedelta(days=today.weekday())
        update = services.update_build_draft(audience=sales, period_end=monday, by=dana)
        if not update.is_sent:
            if not update.note:
                services.update_draft_save(
                    update=update,
                    note="Two things to show customers this week, and one we are still building.",
                    items={},
                )
            services.update_send(update=update, by=dana)
        if sofia is not None and not Question.objects.filter(update=update, text=QUESTION).exists():
            question = services.question_ask(update=update, by=sofia, text=QUESTION)
            services.question_answer(question=question, by=dana, answer=ANSWER)
        questions = Question.objects.filter(update__audience=sales).count()
    return {"audiences": len(audiences), "questions": questions}
