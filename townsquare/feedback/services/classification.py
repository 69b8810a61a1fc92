"""Classification: the classifier (trained on shipped examples and curator corrections) labels messages."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone

from townsquare.core.errors import TownsquareError
from townsquare.core.sql import insert_sql
from townsquare.feedback.models import Classification, ClassifierVersion, CurationAction, ThemeMessage
from townsquare.feedback.pipeline import classify
from townsquare.feedback.pipeline.embed import DIMENSIONS, MODEL_NAME, embed
from townsquare.feedback.services import threads
from townsquare.feedback.services.embedding import vectors_for
from townsquare.feedback.services.refresh import theme_refresh
from townsquare.feedback.services.results import BatchResult
from townsquare.sources.models import Message
from townsquare.sources.text import prepare

logger = logging.getLogger(__name__)

# Per process: a classifier is read from its row once, the seed examples embedded once per file version.
_classifier_cache: dict[int, classify.Classifier] = {}
_seed_cache: dict[tuple[float, ...], tuple[np.ndarray, np.ndarray, list[str], list[str]]] = {}


def _seed_vectors() -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    """The shipped examples' embeddings, thread features, labels and prepared texts (seed + real_train),
    computed once per process (per version of the files)."""
    files = (*classify.TRAINING_FILES, classify.REAL_TRAIN_THREADS_FILE)
    stamp = tuple(path.stat().st_mtime if path.exists() else 0.0 for path in files)
    if stamp not in _seed_cache:
        texts, labels = classify.load_training()
        prepared = [prepare(None, t) for t in texts]
        _seed_cache.clear()
        _seed_cache[stamp] = (embed(prepared), classify.load_training_threads(), labels, prepared)
    return _seed_cache[stamp]


@transaction.atomic
def classifier_train(*, by: User | None = None) -> ClassifierVersion:
    """Train on the shipped training files plus every curator correction (the latest text of each message)."""
    seed_vectors, seed_threads, labels, seed_texts = _seed_vectors()
    seed_count = len(labels)
    labels = list(labels)
    texts: list[str] = []
    curated = list(Classification.objects.filter(curated_at__isnull=False).select_related("message"))
    for row in curated:
        texts.append(row.message.text())
        labels.append("docs_question" if row.kind == Classification.Kind.QUESTION and row.docs_gap else row.kind)
    vectors, thread = seed_vectors, seed_threads
    if texts:
        ids = [row.message_id for row in curated]
        vectors = np.vstack([seed_vectors, embed(texts)])
        thread = np.vstack([seed_threads, threads.features(ids, threads.places(ids))])
    model = classify.train(vectors, labels, thread=thread, texts=[*seed_texts, *texts])
    version = ClassifierVersion.objects.create(
        embedding_model=MODEL_NAME,
        classes=model.classes,
        coef=model.coef,
        intercept=model.intercept,
        seed_examples=seed_count,
        curated_examples=len(texts),
        cv_accuracy=model.cv_accuracy,
    )
    logger.info("feedback classifier %s trained on %s examples", version.pk, len(labels))
    return version


def classifier_current() -> tuple[ClassifierVersion, classify.Classifier]:
    version = ClassifierVersion.objects.order_by("-created_at", "-pk").first()
    if version is None or len(version.coef[0]) != DIMENSIONS + len(classify.THREAD_FEATURES) + classify.WORD_FEATURES:
        version = classifier_train()  # none yet, or one stored before the thread features or the words
    if version.pk not in _classifier_cache:
        _classifier_cache[version.pk] = classify.Classifier(
            classes=version.classes, coef=version.coef, intercept=version.intercept
        )
    return version, _classifier_cache[version.pk]


def messages_classify(*, message_ids: Sequence[int]) -> BatchResult:
    """Label messages that have an embedding; curator-corrected labels are kept as they are.

    Messages without a vector (bots, pull requests, empty or binary text, what the pre-filter dropped)
    are recorded as not feedback: that marks them processed, so the pending sweep moves past them.
    Rows are written in bulk: at a million messages, two queries a message would be most of the cost.
    """
    result = BatchResult()
    version, model = classifier_current()
    vectors = vectors_for(message_ids)
    existing: dict[int, int] = {}  # message id -> its label's id
    curated: set[int] = set()
    for message_id, pk, curated_at in Classification.objects.filter(message_id__in=list(message_ids)).values_list(
        "message_id", "pk", "curated_at"
    ):
        existing[message_id] = pk
        if curated_at is not None:
            curated.add(message_id)
    versions = dict(Message.objects.filter(pk__in=list(message_ids)).values_list("pk", "version"))
    ids = [i for i in vectors if i not in curated]
    places = threads.places(ids)
    texts = _texts(ids)
    predictions = (
        dict(
            zip(
                ids,
                classify.predict(
                    model,
                    np.stack([vectors[i] for i in ids]),
                    threads.features(ids, places),
                    texts=[texts.get(i, "") for i in ids],
                ),
            )
        )
        if ids
        else {}
    )
    predictions.update(_me_too(ids, places, predictions, texts))
    now = timezone.now()
    rows: list[Classification] = []
    for message_id, message_version in versions.items():
        if message_id in curated:
            continue
        prediction = predictions.get(message_id)
        if prediction is not None:
            row = Classification(
                message_id=message_id,
                message_version=message_version,
                kind=prediction.kind,
                docs_gap=prediction.docs_gap,
                confidence=prediction.confidence,
                classifier=version,
            )
            result.done += 1
        else:
            row = Classification(
                message_id=message_id,
                message_version=message_version,
                kind=Classification.Kind.NOT_FEEDBACK,
                docs_gap=False,
                confidence=1.0,
                classifier=None,
            )
            result.skipped += 1
        row.pk = existing.get(message_id)
        row.updated_at = now
        rows.append(row)
    with transaction.atomic():
        for message_id in curated:  # a curator's label stands for later versions of the message too
            Classification.objects.filter(message_id=message_id).update(message_version=versions[message_id])
        new = [r for r in rows if r.pk is None]
        changed = [r for r in rows if r.pk is not None]
        _insert_classifications(new)
        Classification.objects.bulk_update(
            changed, ["message_version", "kind", "docs_gap", "confidence", "classifier", "updated_at"], batch_size=500
        )
    return result


def _texts(ids: Sequence[int]) -> dict[int, str]:
    """The prepared text of each message, as it was embedded: the classifier reads its words too."""
    return {
        pk: prepare(title, body)
        for pk, title, body in Message.objects.filter(pk__in=list(ids)).values_list("pk", "title", "body")
    }


def _me_too(
    ids: Sequence[int],
    places: dict[int, threads.Place],
    predictions: dict[int, classify.Prediction],
    texts: dict[int, str],
) -> dict[int, classify.Prediction]:
    """Replies that say "me too" to an opener that is feedback: the opener's kind, whatever the gate said.

    The opener's label is this batch's prediction when it is in the batch, else its stored label.
    """
    candidates = {
        pk: place.opener_id
        for pk, place in places.items()
        if place.by_other and place.opener_id is not None and predictions[pk].kind == Classification.Kind.NOT_FEEDBACK
    }
    if not candidates:
        return {}
    candidates = {pk: opener for pk, opener in candidates.items() if classify.says_me_too(texts.get(pk, ""))}
    stored = {
        message_id: classify.Prediction(kind, docs_gap, confidence)
        for message_id, kind, docs_gap, confidence in Classification.objects.filter(
            message_id__in=set(candidates.values()) - set(predictions)
        ).values_list("message_id", "kind", "docs_gap", "confidence")
    }
    out = {}
    for pk, opener in candidates.items():
        label = predictions.get(opener) or stored.get(opener)
        if label is not None and label.kind != Classification.Kind.NOT_FEEDBACK:
            out[pk] = label
    return out


_CLASSIFICATION_COLUMNS = (
    "message_id",
    "message_version",
    "kind",
    "docs_gap",
    "confidence",
    "classifier_id",
    "updated_at",
)


def _insert_classifications(rows: Sequence[Classification]) -> None:
    """New machine labels in one executemany: a sweep writes one per message, and at a million messages
    ``bulk_create``'s per-object work (instances, signals, SQL per 100 rows) was a tenth of the main thread."""
    if not rows:
        return
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.executemany(
            insert_sql(Classification._meta.db_table, _CLASSIFICATION_COLUMNS),
            [
                (
                    r.message_id,
                    r.message_version,
                    r.kind,
                    r.docs_gap,
                    r.confidence,
                    r.classifier_id,
                    adapt(r.updated_at),
                )
                for r in rows
            ],
        )


@transaction.atomic
def classification_correct(*, message: Message, kind: str, docs_gap: bool = False, by: User) -> Classification:
    if kind not in Classification.Kind.values:
        raise TownsquareError(f"unknown feedback kind {kind!r}", record=f"message {message.pk}")
    row, _ = Classification.objects.update_or_create(
        message=message,
        defaults={
            "message_version": message.version,
            "kind": kind,
            "docs_gap": docs_gap and kind == Classification.Kind.QUESTION,
            "confidence": 1.0,
            "curated_by": by,
            "curated_at": timezone.now(),
        },
    )
    theme = getattr(getattr(message, "feedback_assignment", None), "theme", None)
    CurationAction.objects.create(
        theme=theme, action=CurationAction.Action.RECLASSIFY, by=by, detail={"message": message.pk, "kind": kind}
    )
    if kind == Classification.Kind.NOT_FEEDBACK:
        ThemeMessage.objects.filter(message=message).delete()
        if theme is not None:
            theme_refresh(theme_ids=[theme.pk])
    return row
