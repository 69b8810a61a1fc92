"""The cheap first pass: which messages are worth embedding and classifying at all.

Embedding is the expensive step of the feedback pipeline (tens to hundreds of texts a second on a
laptop CPU), and most community talk is not feedback: greetings, "thanks!", "+1", links, answers to
someone else, social chatter. This filter reads the prepared text (see ``text.prepare``) and keeps a
message when it plausibly says something a product team should hear:

* it opens a thread with a title (an issue, a forum topic, a question, a mail thread), or
* it asks something (a question mark), or
* it carries a cue of feedback: a problem, a wish, a complaint, praise, a question, another person affected.

Length alone passes nothing: a long post with neither a cue nor a question mark is an announcement, a
log or an explanation. A chat line addressed to someone ("nick: ...", "@nick ...") is one side of a
conversation, usually a helper's answer: there the words that only name the topic of help (question
words, install, docs, tried, help, ...) do not count as cues, unless the line opens with a question
word right after the name; problem, wish, complaint, praise and "me too" cues count everywhere.

Everything else is recorded as "not feedback" without an embedding, and stays searchable by text. The
rules favour recall: ``benchmarks/feedback_prefilter.py`` measures, on hand-labelled real messages,
the share of real feedback they keep and the share of all messages they pass on to the model: 57.2 % of
the messages of ../shared/data (59.8 % when any message of 40 words or more passed and addressed lines
were read like any other), and the same feedback as those rules on seed.tsv (81.1 %, screened as
replies) and on the real labelled sets, screened with each message's kind and thread start
(real_train 80/85, real_holdout 88/91, eval_real 82/85).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Fewer words than this and a message is an acknowledgement, a reaction or a name call.
MIN_WORDS = 4
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
# A chat line that opens with whom it answers: "nick: ...", "nick, ..." or "@nick ...", not "Yes, ..." or "Thanks, ...".
_NAME = r"(?:@\S+|[\w\[\]\-|`^.]{2,20}[:,])\s"
_ADDRESSED = re.compile(
    r"(?!(?:hi|hello|hey|yes|yeah|yep|no|nope|ok|okay|so|well|also|thanks|thank|idea|note|update|edit|btw|ps|re|"
    r"and|but|oh|ah|sure|right|hmm|sorry|actually|anyway|now|then|again|first|second|finally|however|instead)\b)"
    + _NAME,
    re.IGNORECASE,
)
# ... that asks its addressee something, without a question mark: "nick: how do I ...".
_ASKS_ADDRESSEE = re.compile(
    _NAME + r"\s*(?:how|what|why|where|which|who|anyone|anybody|can\s+(?:i|you|someone|anyone))\b", re.IGNORECASE
)
# Cues that name the topic of a help conversation rather than a problem, wish or opinion: a helper's answer
# says them as often as the asker ("sudo apt install ...", "what you need is ...", "the docs say ...").
_TOPIC_CUES = re.compile(
    r"(?:what|which|where|who|how|why|install\w*|upgrad\w*|configur\w*|setup|deploy\w*|migrat\w*|examples?|"
    r"tutorial\w*|guide|docs?|documentation|trying|tried|attempt\w*|help|anyone|anybody|understand\w*|explain\w*)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Verdict:
    keep: bool
    reason: str  # why: "thread start", "cue", or why not: "short", "no cue"


def screen(text: str, *, kind: str = "", starts_thread: bool = False) -> Verdict:
    """Whether a message's prepared text should go on to the embedding model, and why."""
    words = len(_WORD.findall(text[:4000]))
    if words < MIN_WORDS:
        return Verdict(False, "short")
    if starts_thread and kind in THREAD_STARTERS:
        return Verdict(True, "thread start")
    if _QUESTION.search(text):
        return Verdict(True, "cue")
    if _ADDRESSED.match(text) and not _ASKS_ADDRESSEE.match(text):
        cue = any(not _TOPIC_CUES.fullmatch(match.group(0)) for match in _CUES.finditer(text))
    else:
        cue = _CUES.search(text) is not None
    return Verdict(True, "cue") if cue else Verdict(False, "no cue")
