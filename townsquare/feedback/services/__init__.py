"""Feedback writes: embedding, classification, theme assignment and re-grouping, curation.

Machines propose, curators decide: a message a curator placed (move, merge, split) is pinned and
never moved by assignment or re-grouping; re-grouping only writes ``Proposal`` rows.

One module per stage; this package re-exports their public names so callers write
``services.theme_rename(...)``. Tunables are read from the module that defines them: patch them
there (``regrouping.MAX_OPEN_PROPOSALS``), not here.
"""

from __future__ import annotations

from townsquare.feedback.services.assignment import JOIN_SIMILARITY, ThemeCentres, messages_assign
from townsquare.feedback.services.classification import (
    classification_correct,
    classifier_current,
    classifier_train,
    messages_classify,
)
from townsquare.feedback.services.curation import (
    WEIGHT_FIELDS,
    message_move,
    message_reclassify,
    proposal_decide,
    score_weights_update,
    theme_annotate,
    theme_link_issue,
    theme_mark_addressed,
    theme_rename,
    theme_route,
    theme_set_status,
    theme_split,
    themes_merge,
)
from townsquare.feedback.services.embedding import (
    SKIPPED_KINDS,
    embeddings_reconcile,
    messages_embed,
    more_like_this,
    vectors_for,
    whole_vectors_for,
    wholes_embed,
)
from townsquare.feedback.services.processing import (
    FLUSH_EVERY,
    messages_pending,
    messages_pending_count,
    messages_process,
    messages_process_pending,
)
from townsquare.feedback.services.refresh import theme_facets_refresh, theme_refresh, themes_refresh_all
from townsquare.feedback.services.regrouping import MERGE_MIN_SIMILARITY, RECLUSTER_DAYS, themes_recluster
from townsquare.feedback.services.results import BatchResult

__all__ = [
    "FLUSH_EVERY",
    "JOIN_SIMILARITY",
    "MERGE_MIN_SIMILARITY",
    "RECLUSTER_DAYS",
    "SKIPPED_KINDS",
    "WEIGHT_FIELDS",
    "BatchResult",
    "ThemeCentres",
    "classification_correct",
    "classifier_current",
    "classifier_train",
    "embeddings_reconcile",
    "message_move",
    "message_reclassify",
    "messages_assign",
    "messages_classify",
    "messages_embed",
    "messages_pending",
    "messages_pending_count",
    "messages_process",
    "messages_process_pending",
    "more_like_this",
    "proposal_decide",
    "score_weights_update",
    "theme_annotate",
    "theme_facets_refresh",
    "theme_link_issue",
    "theme_mark_addressed",
    "theme_refresh",
    "theme_rename",
    "theme_route",
    "theme_set_status",
    "theme_split",
    "themes_merge",
    "themes_recluster",
    "themes_refresh_all",
    "vectors_for",
    "whole_vectors_for",
    "wholes_embed",
]
