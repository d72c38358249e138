"""What a question asks for, read from its wording alone (deterministic, no model).

The intent decides which sections of a guide an answer quotes: advice comes from
*What to do*, risks from *What goes wrong* and *Warning signs*, a definition from the
introduction, and a readiness question is answered from the checklist.
"""

from __future__ import annotations

import re
from enum import StrEnum


class Intent(StrEnum):
    advice = "advice"  # how do we / what should we / when should we
    risks = "risks"  # why / what can go wrong / is this a problem
    definition = "definition"  # what is X
    readiness = "readiness"  # are we ready / what are we missing before launch
    general = "general"  # none of the above, or risks and advice at once: advice first, others allowed


_LAUNCH = r"(launch\w*|ship\w*|go(?:ing)?[ -]live|release\w*|deploy\w*|roll(?:ing)?[ -]?out|prod(?:uction)?)"
_READINESS = [
    re.compile(
        r"\bwhat (?:are|am|r|did|have) (?:we|i|u|you) (?:still )?(?:be )?"
        r"(?:missing|miss(?:ed)?|forg[eo]t\w*|overlook\w*)"
    ),
    re.compile(
        r"\b(?:anything|what else) (?:we(?:'re| are)?|i(?:'m| am)?) (?:missing|forgetting|overlooking)"
    ),
    re.compile(r"\b(?:are|r) (?:we|u|you) ready\b"),
    re.compile(r"\bready (?:to|for) " + _LAUNCH),
    re.compile(r"\b(?:readiness|launch|pre-?launch|go-live) (?:check|checklist|review)\b"),
    re.compile(
        r"\bbefore (?:we )?(?:the )?" + _LAUNCH + r".{0,40}\b(?:missing|what else|anything|check(?:list)?)\b"
    ),
    re.compile(
        r"\b(?:missing|what else|anything|check(?:list)?)\b.{0,40}\bbefore (?:we )?(?:the )?" + _LAUNCH
    ),
]
_RISKS = [
    re.compile(r"^(?:so |but )?why\b"),
    re.compile(r"\bwhy\s*\??$"),
    re.compile(r"\bwhy (?:do|does|did|is|are|would|could|might|can|has|have)\b"),
    re.compile(r"\bwhat (?:can|could|might|may|will|would) go wrong\b"),
    re.compile(r"\bwhat goes wrong\b"),
    re.compile(
        r"\bis (?:that|this|it) (?:a |an )?(?:problem|issue|bad|ok|okay|fine|normal|red flag|concern)\b"
    ),
    re.compile(r"\bhow bad\b"),
    re.compile(r"\b(?:should|do) (?:we|i) (?:be )?worr"),
    re.compile(r"\bwhat happens if\b"),
]
# Named risks count only when the question does not ask how to act on them.
_RISK_WORDS = re.compile(
    r"\b(?:risks?|risky|pitfalls?|dangers?|mistakes?|red flags?|warning signs?|failure modes?|go wrong)\b"
)
_DEFINITION = [
    re.compile(
        r"^(?:so )?(?:what(?:'s| is| are| does)|whats|wtf is)\s+"
        r"(?!we\b|i\b|our\b|my\b|the (?:best|right|minimum|process)\b|a good\b|the difference\b)"
    ),
    re.compile(r"^(?:define|explain|meaning of)\b"),
    re.compile(r"\bwhat (?:does|do) .{1,40} mean\b"),
    re.compile(r"\b(?:difference between|diff between|what'?s the diff)\b"),
    re.compile(r"\b\w+ vs\.? \w+"),
]
_ADVICE = [
    re.compile(
        r"\bhow (?:do|can|should|would|could|to|much|many|often|long|soon|early|far|big|best"
        r"|are we supposed)\b"
    ),
    re.compile(r"\b(?:what|when|where|who|which)\b[^?]{0,60}\bshould\b"),
    re.compile(r"\bshould (?:we|i|they|u|you)\b"),
    re.compile(r"\bwhat (?:do|can) (?:we|i) do\b"),
    re.compile(r"\bwhat now\b"),
    re.compile(
        r"\b(?:best (?:way|practice)s?|any (?:tips|advice)|tips|recommend\w*"
        r"|where (?:do|should) (?:we|i) start)\b"
    ),
    re.compile(r"\b(?:help|need) (?:me|us) (?:to )?\w+"),
    re.compile(r"^(?:pick|choose|set|write|plan|get|make|find)\b"),
]

_PART_BREAK = re.compile(
    r"\?\s+(?=\S)|;\s+|\s+(?:and|also|plus|,)\s+(?=(?:how|what|when|who|which|should|where|why|do|does|is|are|can)\b)"
)
_QUESTION_START = re.compile(
    r"^(?:how|what|whats|when|who|which|should|where|why|do|does|is|are|can|could|would|any)\b"
)
_LEADING_AND = re.compile(r"^(?:and|also|plus|so|but)\s+", re.IGNORECASE)
MAX_PARTS = 3
MIN_PART_WORDS = 3


def _normal(question: str) -> str:
    text = question.lower().replace("\u2019", "'").replace("\u2018", "'")
    return " ".join(text.split())


def classify(question: str) -> Intent:
    text = _normal(question)
    if any(p.search(text) for p in _READINESS):
        return Intent.readiness
    risks = any(p.search(text) for p in _RISKS)
    advice = any(p.search(text) for p in _ADVICE)
    if risks and advice:  # "is that a problem, and how do we fix it?": both, advice first
        return Intent.general
    if risks:
        return Intent.risks
    if advice:
        return Intent.advice
    if _RISK_WORDS.search(text):
        return Intent.risks
    if any(p.search(text) for p in _DEFINITION):
        return Intent.definition
    return Intent.general


def split_parts(question: str) -> list[str]:
    """The questions in a multi-part question ("how much data do we need and how do we label it?"),
    at most three; a question with one part, or with context sentences around one, gives [question]."""
    text = " ".join(question.split())
    pieces = [_LEADING_AND.sub("", p.strip(" ,.")) for p in _PART_BREAK.split(text)]
    parts = [p for p in pieces if len(p.split()) >= MIN_PART_WORDS and _QUESTION_START.match(_normal(p))]
    if len(parts) < 2:
        return [text]
    return parts[:MAX_PARTS]
