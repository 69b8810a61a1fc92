from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from townsquare.feedback import vectors
from townsquare.feedback.tests.factories import ChannelFactory


@pytest.fixture(autouse=True)
def fresh_vector_index(settings: Any, tmp_path: Path) -> Iterator[None]:
    """Each test gets its own vector index file (database rows roll back; the file would not)."""
    settings.FEEDBACK_VECTOR_PATH = str(tmp_path / "vectors.usearch")
    vectors.forget_indexes()
    yield
    vectors.forget_indexes()


# The seed-only classifier's fields, from the first real training in this process (see seed_classifier).
_SEED_CLASSIFIER: dict[str, Any] = {}


@pytest.fixture(autouse=True)
def seed_classifier(request: pytest.FixtureRequest) -> None:
    """Put the seed-only classifier, trained once per process, back into each test's database.

    Every test's rows roll back, so the first message each test processed used to retrain the classifier
    (cross-validation over the whole seed set: most of the time of most tests here). The first test in the
    process trains it for real through ``classifier_train``; later tests get a row with the same weights,
    which is what that training would give them again. Tests that train (corrections) still train.
    """
    if request.node.get_closest_marker("django_db") is None:
        used = [name for name in ("db", "transactional_db") if name in request.fixturenames]
        if not used:
            return
        request.getfixturevalue(used[0])
    from townsquare.feedback import services
    from townsquare.feedback.models import ClassifierVersion

    if ClassifierVersion.objects.exists():
        return
    if not _SEED_CLASSIFIER:
        version = services.classifier_train()
        fields = ("embedding_model", "classes", "coef", "intercept", "seed_examples", "curated_examples", "cv_accuracy")
        _SEED_CLASSIFIER.update({name: getattr(version, name) for name in fields})
        return
    ClassifierVersion.objects.create(**_SEED_CLASSIFIER)


@pytest.fixture
def channels() -> list[Any]:
    """Three channels of three kinds of source, for feedback that crosses channels."""
    return [
        ChannelFactory(source__name="GitHub", name="acme/app issues"),
        ChannelFactory(source__name="Discourse", name="forum: help"),
        ChannelFactory(source__name="Slack", name="#community"),
    ]
