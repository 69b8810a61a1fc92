"""Erasing a member reaches feedback's derived copies: theme counts and titles, labels and vectors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from townsquare.feedback import services
from townsquare.feedback.models import Classification, Embedding, Theme, ThemeMessage
from townsquare.feedback.pipeline.embed import DIMENSIONS, MODEL_NAME
from townsquare.feedback.services.embedding import _vector_bytes
from townsquare.feedback.tests.factories import IdentityFactory, MessageFactory
from townsquare.feedback.vectors import get_index
from townsquare.people.services import member_erase

pytestmark = pytest.mark.django_db(transaction=True)  # the index is cleaned once the erasure commits


def test_erasing_a_member_updates_theme_counts_and_removes_their_vectors(tmp_path: Path, settings: Any) -> None:
    settings.FEEDBACK_VECTOR_PATH = str(tmp_path / "vectors.usearch")
    settings.FEEDBACK_VECTOR_BACKEND = "file"
    ana, ben = IdentityFactory(), IdentityFactory()
    theme = Theme.objects.create(title="Exports time out", status=Theme.Status.OPEN)
    index = get_index()
    rng = np.random.default_rng(7)
    embedded = []
    for author in (ana, ana, ben):
        message = MessageFactory(author=author, body=f"exports time out for {author.handle}")
        Classification.objects.create(message=message, message_version=1, kind="bug")
        ThemeMessage.objects.create(theme=theme, message=message, similarity=0.9)
        vector = rng.standard_normal(DIMENSIONS).astype(np.float32)
        vector /= np.linalg.norm(vector)
        row = Embedding.objects.create(
            message=message, message_version=1, model=MODEL_NAME, vector=_vector_bytes(vector)
        )
        index.add([row.pk], vector[None, :])
        embedded.append(row.pk)
    services.theme_refresh(theme_ids=[theme.pk], phrases_too=False)
    theme.refresh_from_db()
    assert (theme.message_count, theme.people_count) == (3, 2)

    record = member_erase(member=ana.member, by=None, reason="ticket 7")

    theme.refresh_from_db()
    assert (theme.message_count, theme.people_count) == (1, 1)
    assert record.removed["theme placements"] == 2 and record.removed["vectors"] == 2
    assert list(Embedding.objects.values_list("pk", flat=True)) == embedded[2:]
    assert sorted(get_index().keys()) == embedded[2:]
