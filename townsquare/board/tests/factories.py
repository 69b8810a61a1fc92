from __future__ import annotations

import factory

from townsquare.board.models import Collaborator, Column, Kudos, Label, Task, Visibility
from townsquare.people.tests.factories import TeamFactory, UserFactory

__all__ = ["CollaboratorFactory", "KudosFactory", "LabelFactory", "TaskFactory", "TeamFactory", "UserFactory"]


class LabelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Label
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"label {n}")
    slug = factory.LazyAttribute(lambda o: o.name.lower().replace(" ", "-"))


class TaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Task

    title = factory.Sequence(lambda n: f"Task number {n}")
    description = "Write it, review it, ship it."
    column = Column.BACKLOG
    position = factory.Sequence(lambda n: (n + 1) * 1024)
    owner = factory.SubFactory(UserFactory)
    visibility = Visibility.PUBLIC


class CollaboratorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Collaborator

    task = factory.SubFactory(TaskFactory)
    user = factory.SubFactory(UserFactory)
    team = factory.SubFactory(TeamFactory)
    contribution = "reviewed the examples"


class KudosFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Kudos

    kind = Kudos.Kind.THANKS
    task = factory.SubFactory(TaskFactory)
    task_title = factory.LazyAttribute(lambda o: o.task.title if o.task else "")
    user = factory.SubFactory(UserFactory)
    team = factory.SubFactory(TeamFactory)
    message = "answered the forum questions"
