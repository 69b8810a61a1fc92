"""The demo workspace: teams and one person per role. Loading it twice changes nothing."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from townsquare.board.demo import board_demo_load
from townsquare.core.roles import Role
from townsquare.feedback.demo import feedback_demo_load
from townsquare.intake.demo import intake_demo_load
from townsquare.metrics.demo import metrics_demo_load
from townsquare.people.demo import people_demo_load
from townsquare.people.services import roles_ensure, team_ensure, user_ensure
from townsquare.sources.demo import sources_demo_load
from townsquare.updates.demo import updates_demo_load
from townsquare.updates.demo_newsletter import newsletter_demo_load
from townsquare.value.demo import value_demo_load

DEMO_PASSWORD = "townsquare-demo"


@dataclass(frozen=True)
class DemoUser:
    username: str
    full_name: str
    role: Role
    team: str
    is_lead: bool = False


TEAMS = [
    ("DevRel", "devrel", "Developer relations: advocates and community managers."),
    ("Engineering", "engineering", "Builds the product."),
    ("Product", "product", "Decides what gets built."),
    ("Support", "support", "Answers customers."),
    ("Sales", "sales", "Sells to companies."),
    ("Marketing", "marketing", "Campaigns, content and events."),
    ("Customer Success", "customer_success", "Keeps customers successful."),
    ("Executive", "executive", "The leadership team and DevRel's executive sponsor."),
]

USERS = [
    DemoUser("admin", "Alex Admin", Role.ADMIN, "DevRel"),
    DemoUser("dana", "Dana Okafor", Role.DEVREL_LEAD, "DevRel", is_lead=True),
    DemoUser("ari", "Ari Lindqvist", Role.DEVREL_MEMBER, "DevRel"),
    DemoUser("mia", "Mia Chen", Role.STAKEHOLDER_MEMBER, "Marketing"),
    DemoUser("marco", "Marco Rossi", Role.STAKEHOLDER_LEAD, "Marketing", is_lead=True),
    DemoUser("sam", "Sam Patel", Role.STAKEHOLDER_MEMBER, "Support"),
    DemoUser("priya", "Priya Nair", Role.STAKEHOLDER_LEAD, "Product", is_lead=True),
    DemoUser("eli", "Eli Novak", Role.STAKEHOLDER_MEMBER, "Engineering"),
    DemoUser("sofia", "Sofia Alvarez", Role.STAKEHOLDER_MEMBER, "Sales"),
    DemoUser("erin", "Erin Walsh", Role.EXECUTIVE, "Executive"),
]


def demo_workspace_load() -> dict[str, int]:
    """Everything the demo shows, loop by loop; each loader is idempotent."""
    counts = demo_load()
    loaders = (
        people_demo_load,
        sources_demo_load,
        feedback_demo_load,
        intake_demo_load,
        board_demo_load,
        metrics_demo_load,
        updates_demo_load,
        newsletter_demo_load,
        value_demo_load,
    )
    for loader in loaders:
        counts.update({f"{loader.__module__.split('.')[1]} {key}": value for key, value in loader().items()})
    return counts


@transaction.atomic
def demo_load() -> dict[str, int]:
    roles_ensure()
    teams = {name: team_ensure(name=name, kind=kind, description=description) for name, kind, description in TEAMS}
    for person in USERS:
        user_ensure(
            username=person.username,
            email=f"{person.username}@example.com",
            full_name=person.full_name,
            role=person.role,
            team=teams[person.team],
            is_lead=person.is_lead,
            password=DEMO_PASSWORD,
        )
    return {"teams": len(teams), "users": len(USERS)}
