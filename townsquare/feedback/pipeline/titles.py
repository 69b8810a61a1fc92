"""Theme titles: a few words that say the problem.

A theme's title is, in this order:

1. the title of a titled thread among its representative messages (a GitHub issue, a forum topic, a
   Q&A question, a mail subject), the most central one, as its author already wrote the summary line;
2. else the sentence of a representative message that best states the problem: close to the theme's
   centre, containing a problem cue ("fails", "can't", "how do I", "would be great"), from a message
   that opens a conversation rather than answers one. Greetings, quoted text, links, code, @mentions,
   "nick:" addressing and sign-offs are removed first, and reply fragments ("Thank you both", "Short
   answer: ...", "This is the issue you're describing") are never chosen;
3. else a plain sentence of the same kind without a cue, else the key phrases.

The line is cut to ``TITLE_CHARS`` at a word boundary. Everything here is regular expressions over at
most ``BODY_CHARS`` characters of a message, so a title costs microseconds per message.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from townsquare.feedback.pipeline.phrases import GENERIC_WORDS, stop_words, title_from_phrases
from townsquare.sources.text import clean_body

TITLE_CHARS = 80
BODY_CHARS = 3000
# How many of the most central messages are read for a title.
TITLE_CANDIDATES = 8
# A titled thread wins when it is at most this much less similar (cosine) to the centre than the most
# central message: further out, it is a thread that only touches the theme.
TITLED_MARGIN = 0.12
# Bonuses added to a sentence's closeness to the centre.
CUE_BONUS = 0.06  # it states a problem
OPENER_BONUS = 0.03  # its message opens a thread
PHRASE_BONUS = 0.015  # per key-phrase word in it (up to three)
POSITION_PENALTY = 0.01  # per sentence before it in its message: the first ones carry the point
THREAD_BONUS = 0.01  # per other message of the same titled thread among the candidates (up to five)

_SUBJECT_PREFIX = re.compile(r"^\s*((re|fwd?|aw|sv)\s*:\s*|\[[^\]]{1,40}\]\s*|#\d+\s+)+", re.IGNORECASE)
_URL = re.compile(
    r"<?(https?://|ftp://|www\.)[^\s<>]+>?"
    r"|\b[\w-]+(\.[\w-]+)*\.(com|org|net|io|dev|app|ai|co|gg|me|ly|sh|xyz|so|tv|info|edu|gov)\b(/[^\s]*)?",
    re.IGNORECASE,
)
# "@ana" and "<@123>" (Discord), but not the scope of "@acme/sdk"
_MENTION = re.compile(r"<@!?\w+>[,:]?|(?<![\w.])@[\w.\-]+(?![\w.\-/])[,:]?")
_GREETING = re.compile(
    r"^(hi|hello|hey|hiya|howdy|greetings|dear|good (morning|afternoon|evening|day)|yo|hallo|ciao|hola)\b"
    r"([ ]+(all|everyone|everybody|folks|guys|team|there|people|friends|y'?all|devs|experts|again|community))*"
    r"[ ]*[,!.:;\u2014-]*\s*",
    re.IGNORECASE,
)
# "nick: ...", "nick_2, ..." at the start of chat replies, and fillers ("So, ..."). A plain word before a
# comma stays: "Python, Node and Go SDKs all fail".
_ADDRESS = re.compile(
    r"^([\w\-\[\]^|`{}]{2,24}:\s+(?=\S)|[\w\-\[\]^|`{}]*[\d_^|`{}\[\]][\w\-\[\]^|`{}]*,\s+"
    r"|(so|well|also|ok|okay|hmm+|btw|anyway|anywho|edit|update|agreed|sure|basically|fwiw|ps)[,:]\s+)",
    re.IGNORECASE,
)
_MD_LINK = re.compile(r"!?\[([^\]]{0,200})\]\([^)]{0,500}\)")
# Markdown headings, bullets and emphasis, and emoji shortcodes; "page_size" keeps its underscore.
_MD_NOISE = re.compile(
    r"(^|\s)(#{1,6}|[*+-]|\d+[.)])\s+|(?<!\w)[*_~]{1,3}(?=\w)|(?<=\w)[*_~]{1,3}(?!\w)|:[a-z0-9_+-]{2,30}:|`"
)
_SHORTCODE = re.compile(r":[a-z0-9_+-]{2,30}:")
_EMPTY_BRACKETS = re.compile(r"\s*[(\[]\s*[)\]]")
_UNCLOSED_BRACKET = re.compile(r"\s*[(\[][^)\]]{0,30}$")
_LONG_TOKEN = re.compile(r"\S{41,}")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(@\u00c0-\u024f])|(?<=[!?])\s+|\n+")
_WS = re.compile(r"\s+")
_WORD = re.compile(r"[^\W\d_]{2,}")
_EDGE = " \t\"'\u201c\u201d\u2018\u2019`|>-*_~,;:"

# Lines that only react, thank, answer or point elsewhere: never a title.
_NOT_A_SUMMARY = re.compile(
    r"^((ok|okay|yes|yeah|yep|yup|no|nope|nah|right|exactly|agreed|indeed|sure|great|cool|nice|awesome|perfect|"
    r"excellent|done|fixed|resolved|solved|correct|true|interesting|wow)(?=\s*([,.!:;\u2014-]|$))|"
    r"(oh|ah+|uh|um+|hmm+|lol|yes|yeah|yep|yup|nope|nah|and|but|or|also|plus|then|if you|unless|"
    r"same (issue|problem|bug|error|thing|here))\b|"
    r"(thanks|thank(s| you)|thx|ty|tysm|cheers|sorry|apologies|same( here)?|me too|\+1|any (updates?|news|"
    r"ideas?|help|advice|suggestions?|thoughts|pointers)|bump|lol|haha|welcome|glad|congrats|"
    r"i see|got it|makes sense|fair enough|good (point|catch|luck|idea)|i have a question|quick question|"
    r"question|(short|long|quick) answer|tl;?dr|answer|solution|workaround|fixed (in|by|with)|"
    r"see (also|here|above|below|this|the)|here('s| is| are)|this (one|is (it|the|what|how|why|a known))|"
    r"that('s| is| was| would)|for the (first|second|third|last|other|latter|former) (part|point|question|one|"
    r"issue|bit)|(as|like) (you|i|we|he|she|they|mentioned|said|noted|stated)|in your case|"
    r"(you|u) (can|could|should|need|must|might|may|have to|want|will|would|just)(?!'|n't| ?not)|"
    r"try (to |using |running |setting |adding |with |the |a )|have you (tried|checked|looked)|did you|"
    r"(can|could|would) you (share|post|send|try|check|provide|paste|confirm|open|file|give)|"
    r"i (think|believe|guess|suspect|'ll|will|agree|second|also|just (merged|released|pushed))|"
    r"my (guess|understanding)|(it )?(looks|sounds|seems) like (you|that|this)|the fix|"
    r"this (was|has been|is|will be) (fixed|addressed|resolved|solved|released|merged|known)|(will be|is now) "
    r"(available|fixed|released)|we('ll| will| just| released| fixed| merged| shipped)|happy to|"
    r"hope (this|that) helps|let me know|feel free|closing|duplicate of)\b)",
    re.IGNORECASE,
)
# Phrases inside a line that show it answers someone.
_REPLY_INSIDE = re.compile(
    r"\b((sounds|looks|seems) like (a|an) (bug|regression|known)|as \w+ (mentioned|said|noted|suggested)|"
    r"we (already )?have an issue|(i'm|i am|i'll|i will|we'll|we will) (open|file|"
    r"creat|rais|look|tak)(e|ing)? (a|an|into|it|this|the)|you('re| are) (describing|seeing|hitting|asking|looking|talking|referring)|you (mentioned|said|asked|"
    r"described|reported|posted)|your (question|report|case|setup|issue)|thanks (for|to) (the|your)|"
    r"hope (this|that) helps|as (mentioned|discussed) (above|earlier|before)|will be (available|fixed|released|"
    r"out) in the next|(described|mentioned|discussed|said|shown) (above|earlier|before)|"
    r"(created|opened|filed|raised) (a|an) (feature request|issue|ticket|pr|pull request|bug report)|"
    r"(seem|seems) to have fixed|(fixed|solved|resolved) (it|this|the issue) for me|i did a quick|"
    r"this repository contains|you can (copy|use|find|check)|that you see|bravissimo|kudos to)\b",
    re.IGNORECASE,
)
_SECOND_PERSON = re.compile(r"\b(you|your|you're|u)\b", re.IGNORECASE)
# Words that say something is wrong, missing, wanted or unclear.
_PROBLEM_CUE = re.compile(
    r"\b(bugs?|errors?|fail(s|ed|ing|ure|ures)?|crash(es|ed|ing)?|broken|breaks?|breaking|doesn'?t|does not|don'?t|"
    r"didn'?t|can'?t|cannot|can not|couldn'?t|unable|won'?t|isn'?t|aren'?t|wasn'?t|not (work|working|load|"
    r"loading|show|showing|found|supported|possible)|missing|wrong|incorrect|slow(er|ly|ness)?|time(s|d)? ?out|"
    r"hangs?|hanging|stuck|freez(es|ing)|exceptions?|traceback|panics?|leaks?|regression|problems?|issues?|"
    r"warnings?|denied|refused|invalid|unexpected(ly)?|instead of|no longer|stopped|lost|loses|drops?|dropped|"
    r"duplicated?|confus(ing|ed)|unclear|undocumented|how (do|can|to|should|would|does)|is there (a|any)|"
    r"is it possible|why (does|is|do|are|can|did)|feature request|would (be|love|like)|'d (like|love)|no way|"
    r"there('s| is) no|please add|support(s)? for|"
    r"add(ing)? (a|an|support)|allow(ing)?|wish|should|needs?|request(ing|ed)?|ignored?|ignores|rejects?|"
    r"rejected|overcharged|charged twice|expired?|outage|down|[45]\d\ds?)\b|\?\s*$",
    re.IGNORECASE,
)


def _tidy(line: str, *, body: bool) -> str:
    line = _MD_LINK.sub(r"\1", line)
    line = _URL.sub(" ", line)
    if body:  # in a title, "@acme/sdk" and "@types" are names
        line = _MENTION.sub(" ", line)
    line = _SHORTCODE.sub(" ", line)  # before the edges are stripped of their colons
    line = _WS.sub(" ", line).strip(_EDGE)
    for _ in range(4):  # "Hi all, @ana: So, ..." carries several openers
        before = line
        line = _GREETING.sub("", line, count=1)
        if body:  # in a title, "SAML: login loop" is the subject, not someone addressed
            line = _ADDRESS.sub("", line, count=1)
        line = line.strip(_EDGE)
        if line == before:
            break
    line = _MD_NOISE.sub(" ", line)
    line = _LONG_TOKEN.sub(" ", line)
    line = _WS.sub(" ", line).strip(_EDGE)
    # what a removed link leaves behind: "()" and an unclosed "(see"
    line = _EMPTY_BRACKETS.sub("", line)
    return _UNCLOSED_BRACKET.sub("", line).strip(_EDGE)


# What a removed link or code span leaves at the end of a line: "Is there a way to use ?"
_DANGLING = re.compile(r"\b(a|an|the|of|to|with|from|use|using|my|your)\s*[?.!:]*$", re.IGNORECASE)
_PRONOUN = frozenset(["this", "that", "it", "these", "those"])


def _usable(line: str) -> bool:
    return len(_WORD.findall(line)) >= 3 and not _NOT_A_SUMMARY.match(line) and not _DANGLING.search(line)


def vague(line: str) -> bool:
    """True for a line that names no subject of its own ("This is perhaps a bug?", "How might I fix this?")."""
    stop = stop_words()
    found = _WORD.findall(line)
    words = [w.lower() for w in found]
    content = [
        w
        for w, lower in zip(found, words)
        if w.isupper() or (len(w) >= 3 and lower not in stop and lower not in GENERIC_WORDS)
    ]
    return len(content) < 2 or (len(content) < 3 and bool(_PRONOUN & set(words)) and len(words) <= 6)


def is_reply_fragment(line: str) -> bool:
    """True for a line that reacts to, thanks or answers someone rather than stating a problem."""
    return bool(_NOT_A_SUMMARY.match(line) or _REPLY_INSIDE.search(line))


# A chat line that opens with whom it talks to: "nick: ...", "nick, ...", "@nick ...", "<@123> ...".
_ADDRESSED = re.compile(r"^\s*(<@!?\w+>|@[\w.\-]+\b|[\w\-\[\]^|`{}]{2,24}[:,]\s)")
_ADDRESS_WORDS = re.compile(
    r"^\s*(hi|hello|hey|yes|yeah|yep|no|nope|ok|okay|so|well|also|thanks|thank|note|update|edit|btw|ps|re|and|but|"
    r"oh|ah|sure|right|hmm|sorry|actually|anyway|now|then|again|first|second|finally|however|instead|error|warning|"
    r"question|problem|issue|bug|edit|example|context|summary)\b",
    re.IGNORECASE,
)


def only_answers(body: str | None) -> bool:
    """True for an untitled message that answers or reacts to someone rather than stating a problem of its own.

    A chat line addressed to someone without a question mark ("nick: run sudo apt update first") is one
    side of a conversation, mostly a helper's; a message whose first stated line is a reply fragment
    ("Short answer: there is no flag for this", "Thank you both, that worked") answers too.
    """
    text = (body or "").strip()
    if not text:
        return False
    if _ADDRESSED.match(text) and not _ADDRESS_WORDS.match(text) and "?" not in text[:600]:
        return True
    reacted = False
    for sentence in sentences(text)[:3]:
        if _usable(sentence):
            return is_reply_fragment(sentence)
        reacted = reacted or bool(_NOT_A_SUMMARY.match(sentence))
    return reacted


_WELL_WISHING = re.compile(r"\bwish(es)? (me|us|you|them|him|her) (luck|well)\b", re.IGNORECASE)


def may_seed(body: str | None) -> bool:
    """Whether an untitled message may open a theme of its own: it states a problem, a wish or a question in
    so many words ("fails", "can't", "how do I", "would be great"), and does not only answer someone.

    A question mark alone is not enough ("What's everyone's favourite coffee setup?"), nor is a chat
    line's small talk ("Saw a bird on my balcony"): such a message may still join a theme it is close to.
    """
    if only_answers(body):
        return False
    return any(states_problem(_WELL_WISHING.sub(" ", sentence.replace("?", " "))) for sentence in sentences(body)[:12])


def states_problem(line: str) -> bool:
    return bool(_PROBLEM_CUE.search(line))


def shorten(line: str, limit: int = TITLE_CHARS) -> str:
    """``line`` without a closing full stop, cut to ``limit`` characters at a word boundary."""
    line = line.rstrip(" ,;:-")
    if line.endswith(".") and not line.endswith(".."):
        line = line[:-1]
    if len(line) <= limit:
        return line
    cut = line[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-(") + "\u2026"


def _capital(line: str) -> str:
    return line[:1].upper() + line[1:]


def clean_title(title: str | None) -> str:
    """A thread's title as a theme title ("Re: [list] #12 X" is "X"), or "" when it says nothing."""
    if not title or not title.strip():
        return ""
    line = _tidy(_SUBJECT_PREFIX.sub("", title.replace("\x00", " ")), body=False)
    return _capital(shorten(line)) if _usable(line) else ""


def sentences(body: str | None) -> list[str]:
    """The body's sentences, cleaned of quotes, code, links, greetings and addressing; empty ones dropped."""
    raw = (body or "").replace("\x00", " ")[: BODY_CHARS * 4]
    raw = _MD_LINK.sub(r"\1", raw)
    raw = _URL.sub(" ", raw)
    cleaned = clean_body(raw)[:BODY_CHARS]
    found = []
    for part in _SENTENCE_END.split(cleaned):
        line = _tidy(part, body=True)
        if line:
            found.append(line)
    return found


def headline(title: str | None, body: str | None, *, limit: int = TITLE_CHARS) -> str:
    """A one-line summary of one message, or "" when it has none: its title, else its first stated line."""
    line = clean_title(title)
    if line:
        return shorten(line, limit)
    for sentence in sentences(body):
        if _usable(sentence) and not is_reply_fragment(sentence):
            return _capital(shorten(sentence, limit))
    return ""


@dataclass(frozen=True, eq=False)
class TitleSource:
    """One message of a group, as far as choosing the group's title needs it."""

    title: str
    body: str
    starts_thread: bool
    vector: np.ndarray | None
    thread_title: str = ""  # for a reply, its thread's title (the opener's), when the thread has one


def _ranked(messages: Sequence[TitleSource]) -> tuple[list[TitleSource], dict[int, float]]:
    """The most central messages first, with every titled message after them, and each one's closeness."""
    with_vectors = [m for m in messages if m.vector is not None]
    if not with_vectors:
        return list(messages[:TITLE_CANDIDATES]), {}
    matrix = np.stack([np.asarray(m.vector, dtype=np.float32) for m in with_vectors])
    centre = matrix.mean(0)
    norm = float(np.linalg.norm(centre))
    sims = matrix @ (centre / norm if norm > 0 else centre)
    order = np.argsort(-sims, kind="stable")
    ranked = [with_vectors[i] for i in order[:TITLE_CANDIDATES]]
    chosen = {id(m) for m in ranked}
    ranked += [with_vectors[i] for i in order[TITLE_CANDIDATES:] if with_vectors[i].title.strip()]
    ranked += [m for m in messages if m.vector is None and id(m) not in chosen][:TITLE_CANDIDATES]
    return ranked, {id(m): float(s) for m, s in zip(with_vectors, sims)}


def _phrase_hits(line: str, key_words: set[str]) -> int:
    return min(len(key_words & {w.lower().strip(".,:;!?()") for w in line.split()}), 3)


def group_title(messages: Sequence[TitleSource], key: Sequence[str], *, limit: int = TITLE_CHARS) -> str:
    """A title for a group of messages (see the module's docstring for the order of choices)."""
    ranked, closeness = _ranked(messages)
    if not ranked:
        return title_from_phrases(key)
    top = max(closeness.values(), default=0.0)
    key_words = {w for phrase in key for w in phrase.lower().split()}
    # A thread is the unit: its title speaks for every message of it in the group, the more the better.
    threads = Counter(clean_title(m.title or m.thread_title) for m in ranked)
    fallback: tuple[float, str] = (-np.inf, "")  # the best vague line, when nothing better is found
    best_title, best_title_score = "", -np.inf
    for message in ranked:
        if closeness and closeness.get(id(message), -1.0) < top - TITLED_MARGIN:
            continue
        line = clean_title(message.title or message.thread_title)
        if line and not is_reply_fragment(line):
            score = closeness.get(id(message), 0.0) + PHRASE_BONUS * _phrase_hits(line, key_words)
            score += OPENER_BONUS * message.starts_thread + THREAD_BONUS * min(threads[line] - 1, 5)
            if vague(line):
                fallback = max(fallback, (score - 1.0, line))
            elif score > best_title_score:
                best_title, best_title_score = line, score
    if best_title:
        return shorten(best_title, limit)
    best: dict[bool, tuple[float, str]] = {}
    for message in ranked[:TITLE_CANDIDATES]:
        near = closeness.get(id(message), 0.0)
        if only_answers(message.body):
            continue  # "nick: run sudo apt update first" answers; a group of only such lines takes its phrases
        answers = not message.starts_thread
        for position, sentence in enumerate(sentences(message.body)[:12]):
            if not _usable(sentence) or is_reply_fragment(sentence):
                continue
            if answers and _SECOND_PERSON.search(sentence):
                continue  # a reply talking to "you" answers someone
            cue = states_problem(sentence)
            score = near + CUE_BONUS * cue + OPENER_BONUS * message.starts_thread
            score += PHRASE_BONUS * _phrase_hits(sentence, key_words) - POSITION_PENALTY * position
            if vague(sentence):
                fallback = max(fallback, (score - 2.0, sentence))
            elif cue not in best or score > best[cue][0]:
                best[cue] = (score, sentence)
    for cue in (True, False):
        if cue in best:
            return _capital(shorten(best[cue][1], limit))
    if fallback[1]:
        return _capital(shorten(fallback[1], limit))
    return title_from_phrases(key)
