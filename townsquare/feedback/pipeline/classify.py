"""Feedback classification: logistic regression over the sentence embeddings.

Trained on the labelled examples that ship with the project (``townsquare/feedback/training/``: the
hand-written seed set and the hand-labelled real messages of ``real_train.tsv``) plus curators'
corrections. The weights are plain lists (stored as JSON), so a trained classifier needs no pickle to
be saved or loaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SEED_FILE = Path(__file__).resolve().parents[1] / "training" / "seed.tsv"
REAL_TRAIN_FILE = SEED_FILE.with_name("real_train.tsv")
# What the product trains on (with curators' corrections): written examples, then real labelled messages.
TRAINING_FILES = (SEED_FILE, REAL_TRAIN_FILE)

# Training labels; "docs_question" is a question that reveals a documentation gap.
LABELS = ("bug", "feature", "question", "docs_question", "complaint", "praise", "not_feedback")

# Hyper-parameters of the logistic regression, chosen by cross-validation on the seed set only
# (benchmarks/feedback_classify.py --tune); the real-message evaluation sample plays no part in choosing them.
DEFAULT_C = 8.0
DEFAULT_CLASS_WEIGHT: str | None = "balanced"


@dataclass(frozen=True)
class Classifier:
    classes: list[str]
    coef: list[list[float]]
    intercept: list[float]
    cv_accuracy: float | None = None

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        logits = vectors @ np.asarray(self.coef, dtype=np.float32).T + np.asarray(self.intercept, dtype=np.float32)
        logits -= logits.max(1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(1, keepdims=True)


@dataclass(frozen=True)
class Prediction:
    kind: str  # bug, feature, question, complaint, praise, not_feedback
    docs_gap: bool
    confidence: float


def load_seed(path: Path = SEED_FILE) -> tuple[list[str], list[str]]:
    """(texts, labels) of one training file; ``#`` starts a comment line.

    Lines are ``label<TAB>text`` (seed.tsv) or ``label<TAB>source<TAB>external_id<TAB>text`` (real_train.tsv).
    """
    texts, labels = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t", 3)
        label, text = fields[0], fields[-1] if len(fields) == 4 else line.partition("\t")[2]
        if label not in LABELS:
            raise ValueError(f"{path.name}: unknown label {label!r}")
        texts.append(text.strip())
        labels.append(label)
    return texts, labels


def load_training(paths: Sequence[Path] = TRAINING_FILES) -> tuple[list[str], list[str]]:
    """(texts, labels) of every shipped training file, in order: what ``services.classifier_train`` starts from."""
    texts: list[str] = []
    labels: list[str] = []
    for path in paths:
        more_texts, more_labels = load_seed(path)
        texts += more_texts
        labels += more_labels
    return texts, labels


def train(
    vectors: np.ndarray,
    labels: Sequence[str],
    *,
    cross_validate: bool = True,
    c: float = DEFAULT_C,
    class_weight: str | None = DEFAULT_CLASS_WEIGHT,
) -> Classifier:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score

    y = np.asarray(labels)
    model = LogisticRegression(C=c, max_iter=2000, class_weight=class_weight)
    accuracy = None
    if cross_validate:
        folds = int(min(5, np.unique(y, return_counts=True)[1].min()))
        if folds >= 2:
            accuracy = float(cross_val_score(model, vectors, y, cv=folds).mean())
    model.fit(vectors, y)
    return Classifier(
        classes=[str(c) for c in model.classes_],
        coef=model.coef_.astype(float).tolist(),
        intercept=model.intercept_.astype(float).tolist(),
        cv_accuracy=accuracy,
    )


def predict(classifier: Classifier, vectors: np.ndarray) -> list[Prediction]:
    if len(vectors) == 0:
        return []
    probs = classifier.probabilities(vectors)
    out = []
    for row, vector in zip(probs, vectors):
        if not vector.any():  # empty text: a zero vector carries no meaning
            out.append(Prediction("not_feedback", False, 1.0))
            continue
        label = classifier.classes[int(row.argmax())]
        confidence = float(row.max())
        if label == "docs_question":
            out.append(Prediction("question", True, confidence))
        else:
            gap = (
                "docs_question" in classifier.classes
                and label == "question"
                and (row[classifier.classes.index("docs_question")] > 0.35)
            )
            out.append(Prediction(label, bool(gap), confidence))
    return out
