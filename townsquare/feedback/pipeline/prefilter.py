"""The cheap first pass: which messages are worth embedding and classifying at all.

Embedding is the expensive step of the feedback pipeline (tens to hundreds of texts a second on a
laptop CPU), and most community talk is not feedback: greetings, "thanks!", "+1", links, answers to
someone else, social chatter. This filter reads the prepared text (see ``text.prepare``) and keeps a
message when it plausibly says something a product team should hear:

* it opens a thread with a title (an issue, a forum topic, a question, a mail thread), or
* it carries a cue of feedback: a question, a problem, a wish, a complaint, praise, or
* it is long enough to be a considered post (long messages are rarely small talk).

Everything else is recorded as "not feedback" without an embedding, and stays searchable by text. The
rules favour recall: ``benchmarks/feedback_prefilter.py`` measures, on hand-labelled real messages,
the share of real feedback they keep and the share of all messages they pass on to the model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Fewer words than this and a message is an acknowledgement, a reaction or a name call.
MIN_WORDS = 4
# At least this many words and a message is embedded whatever it says.
LONG_WORDS = 40
# Message kinds that start a thread and carry a title when they do.
THREAD_STARTERS = frozenset({"issue", "question", "post", "email"})

_WORD = re.compile(r"\w+", re.UNICODE)
_QUESTION = re.compile(r"[?？¿]")
_CUES = re.compile(
    r"""\b(?:
        # problems
        bugs?|error\w*|errno|exception\w*|crash\w*|fail\w*|broke\w*|break(?:s|ing)?|regress\w*|
        issues?|problem\w*|wrong|incorrect|unexpected\w*|invalid|timeouts?|timed?\s?out|hang\w*|freez\w*|
        stuck|leak\w*|corrupt\w*|missing|lost|cannot|can't|cant|couldn't|unable|won't|doesn't|does\s+not|
        didn't|isn't|not\s+work\w*|nothing\s+happens|traceback|stack\s?trace|segfault|panic\w*|warning\w*|
        denied|refused|404|500|403|glitch\w*|flaky|slow\w*|lag\w*|drop(?:s|ped|ping)|los(?:es|ing)|skip(?:s|ped|ping)|
        ignor(?:es|ed|ing)|disappear\w*|duplicat\w*|twice|
        # wishes and requests
        feature\w*|request\w*|wish\w*|would\s+(?:be|love|like)|could\s+you|please|pls|plz|support\s+for|
        add(?:ing)?\s+(?:a|an|support|the|option)|option\s+to|allow\w*|possible|possibility|roadmap|
        plans?\s+to|any\s+(?:way|chance)|is\s+there|should|suggest\w*|proposal|propose|idea|improve\w*|enhance\w*|
        # questions and help
        how|why|what|where|which|when|who|anyone|anybody|help\w*|confus\w*|unclear|understand\w*|docs?|
        documentation|tutorial\w*|example\w*|guide|explain\w*|clarif\w*|trying|tried|attempt\w*|
        install\w*|upgrad\w*|migrat\w*|configur\w*|setup|deploy\w*|
        # complaints
        annoy\w*|frustrat\w*|terrible|awful|horrible|hate|useless|painful|pain|disappoint\w*|unusable|
        ridiculous|worse|worst|sucks?|expensive|pricing|price|cancel\w*|churn\w*|switch(?:ing|ed)?\s+to|
        # praise
        love\w*|great|awesome|amazing|excellent|fantastic|brilliant|impressive|kudos|thank\w*(?:\s+you)?\s+for|
        nice\s+work|well\s+done|game\s?changer|works?\s+(?:great|perfectly|well)|helpful|saved|best|joy|delight\w*|smooth\w*|
        # agreement with someone else's report or wish: another person affected
        me\s+too|same\s+(?:here|problem|issue|thing|with|for\s+me)|not\s+just\s+you|agreed?|would\s+make|we'd|i'd|
        ask(?:s|ed|ing)?\s+for
    )\b""",
    re.IGNORECASE | re.VERBOSE,
)


@dataclass(frozen=True)
class Verdict:
    keep: bool
    reason: str  # why: "thread start", "cue", "long", or why not: "short", "no cue"


def screen(text: str, *, kind: str = "", starts_thread: bool = False) -> Verdict:
    """Whether a message's prepared text should go on to the embedding model, and why."""
    words = len(_WORD.findall(text[:4000]))
    if words < MIN_WORDS:
        return Verdict(False, "short")
    if starts_thread and kind in THREAD_STARTERS:
        return Verdict(True, "thread start")
    if words >= LONG_WORDS:
        return Verdict(True, "long")
    if _QUESTION.search(text) or _CUES.search(text):
        return Verdict(True, "cue")
    return Verdict(False, "no cue")
