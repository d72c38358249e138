"""An optional generated summary written above the quoted lines of an answer.

Any OpenAI-compatible chat-completions endpoint writes it (a company gateway, vLLM, Ollama),
and only from the question and the numbered lines. Nothing it returns is trusted: every
sentence must cite lines, use only numbers and names found in the lines it cites, and stay
close in meaning to one of them. Anything doubtful means no summary, so the quoted answer
goes alone; each such fallback is counted by reason and logged once.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from bot import metrics
from bot.errors import MlreadyError
from indexer.embedding import unit_rows

if TYPE_CHECKING:
    from bot.settings import Settings

log = logging.getLogger(__name__)

# Cosine similarity (all-MiniLM-L6-v2) between a sentence and the line it cites, measured on
# lines of knowledge/docs; a generated sentence below this is not what the line says.
DEFAULT_SIMILARITY_FLOOR = 0.55  # faithful paraphrases 0.64-0.96, wrong-line citations 0.02-0.47 (n=30 each)
MAX_SENTENCES = 3
MAX_CHARS = 600
# A reply this long was not asked for; rejecting it up front keeps a runaway model from
# costing embedding time on the answering path.
MAX_REPLY_CHARS = 4 * MAX_CHARS

# The fallback reasons, the only label values of metrics.SUMMARY_FALLBACKS (bounded cardinality).
REASONS = (
    "empty",
    "uncited",
    "unknown_citation",
    "unsupported_number",
    "unsupported_name",
    "low_similarity",
    "too_long",
    "timeout",
    "error",
)

SYSTEM_PROMPT = (
    "You summarise guidance for a team checking whether a machine-learning project is ready. "
    f"Answer the question in at most {MAX_SENTENCES} short sentences, using only the numbered lines. "
    "End every sentence with the number of each line it relies on in square brackets, "
    "for example 'First sentence. [2]' or 'Second sentence. [1][3]'. "
    "Do not add any fact, number or name that is not in the lines you cite. "
    "If the lines do not answer the question, reply exactly NONE."
)

Embed = Callable[[list[str]], np.ndarray]


@dataclass(frozen=True)
class Summary:
    text: str  # verified sentences joined by spaces, each ending in its citation(s) like "[2]" or "[1][3]"
    model: str


class SummaryRejected(Exception):
    """A reply that failed verification; `reason` is one of REASONS."""

    def __init__(self, reason: str, detail: str) -> None:
        assert reason in REASONS, reason
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def _import_openai() -> ModuleType:
    try:
        import openai
    except ImportError as exc:
        raise MlreadyError(
            "the generated summary (MLREADY_LLM_BASE_URL) needs the openai package; "
            "install it with pip install 'mlready[llm]'"
        ) from exc
    return openai


class Summarizer:
    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None,
        timeout: float,
        embed: Embed,
        floor: float = DEFAULT_SIMILARITY_FLOOR,
    ) -> None:
        self._openai = _import_openai()
        # Retries are off: the answer is waiting on this call, and the quoted lines are a
        # complete answer without it. Local endpoints (vLLM, Ollama) accept any key.
        self._client = self._openai.OpenAI(
            base_url=base_url, api_key=api_key or "unused", timeout=timeout, max_retries=0
        )
        self.model = model
        self.embed = embed
        self.floor = floor

    def summarize(self, question: str, lines: list[str]) -> Summary | None:
        """`lines` are shown to the model numbered 1..n. Returns None on any failure, after
        incrementing metrics.SUMMARY_FALLBACKS.labels(reason) once and logging one warning line."""
        try:
            if not lines:
                return self._fallback("empty", "no lines to summarise")
            try:
                reply = self._ask(question, lines)
            except self._openai.APITimeoutError:
                return self._fallback("timeout", f"no reply from {self.model} in time")
            text = verify(reply, lines, self.embed, self.floor)
            return Summary(text=text, model=self.model)
        except SummaryRejected as rejected:
            return self._fallback(rejected.reason, rejected.detail)
        except Exception as exc:  # any endpoint, client or embedding failure: the quotes still answer
            return self._fallback("error", f"{type(exc).__name__}: {exc}")

    def _ask(self, question: str, lines: list[str]) -> str | None:
        response = self._client.chat.completions.create(
            model=self.model,
            messages=[
                {"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": user_message(question, lines)},
            ],
            temperature=0,
        )
        # Anything but a chat completion with a text or null message is malformed ("error").
        content: Any = response.choices[0].message.content
        if content is not None and not isinstance(content, str):
            raise TypeError(f"message content is {type(content).__name__}, not text")
        return content

    def _fallback(self, reason: str, detail: str) -> None:
        metrics.SUMMARY_FALLBACKS.labels(reason).inc()
        log.warning("generated summary dropped, quoted answer goes alone: %s (%s)", reason, _short(detail))
        return None


def summarizer_from_settings(settings: Settings, embed: Embed) -> Summarizer | None:
    """None when settings.llm_base_url is unset. `openai` is imported only when configured; if it
    is not installed, MlreadyError says to install it with pip install 'mlready[llm]'."""
    if not settings.llm_base_url:
        return None
    _import_openai()  # fail at startup with the install hint, not on the first question
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
    return Summarizer(
        base_url=settings.llm_base_url,
        model=settings.llm_model,
        api_key=key,
        timeout=settings.llm_timeout_seconds,
        embed=embed,
    )


def _one_line(text: str) -> str:
    return " ".join(text.split())


def user_message(question: str, lines: list[str]) -> str:
    """The only app data the endpoint sees: the question and the lines, numbered from 1."""
    numbered = "\n".join(f"[{i}] {_one_line(line)}" for i, line in enumerate(lines, start=1))
    return f"Question: {_one_line(question)}\n\nNumbered lines:\n{numbered}"


def _short(text: str, limit: int = 200) -> str:
    text = _one_line(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- verification ---------------------------------------------------------------------------

_CITATION = re.compile(r"\[\s*(\d+(?:\s*,\s*\d+)*)\s*\]")  # [2], and [1, 3] which models also write
_TRAILING_CITATIONS = re.compile(r"(?:\s*\[\s*\d+(?:\s*,\s*\d+)*\s*\])+\s*[.!?]?\s*$")
_LEADING_CITATIONS = re.compile(r"^((?:\[\s*\d+(?:\s*,\s*\d+)*\s*\]\s*)+)[.!?]?\s*")
_LIST_MARKER = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+", re.MULTILINE)
_NONE_REPLY = re.compile(r"^\W*none\W*$", re.IGNORECASE)
# A sentence ends at . ! ? before a space, or at a citation followed by a new capitalised sentence.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|(?<=\])\s+(?=[A-Z])")
# Abbreviations whose full stop does not end a sentence.
_ABBREVIATION_END = re.compile(r"(?:^|[\s(])(?:e\.g|i\.e|vs|et al|cf)\.$", re.IGNORECASE)
_SPACE_BEFORE_PUNCTUATION = re.compile(r"\s+(?=[.!?,;:])")
# 1,400 and 0.25 and 35% / 35 percent; digits inside names (F1, Rule #29) count as numbers too.
_NUMBER = re.compile(r"(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(\s?(?:%|percent\b))?", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")


def _sentences(reply: str) -> list[str]:
    text = _one_line(_LIST_MARKER.sub("", reply).replace("**", "").replace("`", ""))
    pieces: list[str] = []
    for piece in _SENTENCE_END.split(text):
        if pieces and _ABBREVIATION_END.search(pieces[-1]):
            pieces[-1] += " " + piece
            continue
        # "Sentence. [2]" splits after the full stop: the citations belong to the sentence before.
        lead = _LEADING_CITATIONS.match(piece)
        if lead and pieces:
            pieces[-1] += " " + lead.group(1).strip()
            piece = piece[lead.end() :]
        if piece.strip():
            pieces.append(piece.strip())
    return pieces


def _citations(sentence: str) -> list[int]:
    found: list[int] = []
    for group in _CITATION.findall(sentence):
        for n in (int(part) for part in group.split(",")):
            if n not in found:
                found.append(n)
    return found


def _numbers(text: str) -> set[tuple[str, bool]]:
    """(value, is_percentage), with thousands separators and trailing decimal zeros dropped."""
    found: set[tuple[str, bool]] = set()
    for digits, percent in _NUMBER.findall(text):
        value = digits.replace(",", "")
        if "." in value:
            value = value.rstrip("0").rstrip(".")
        found.add((value, bool(percent)))
    return found


def _is_name(word: str, at_start: bool) -> bool:
    """Method and metric names: acronyms (AUC, F1, SHAP), CamelCase (XGBoost), and capitalised
    words other than the first word of a sentence (Wasserstein, Zinkevich)."""
    if len(word) < 2:
        return False
    if word[0].isupper() and all(c.isupper() or c.isdigit() for c in word):
        return True
    if any(c.isupper() for c in word[1:]):
        return True
    return word[0].isupper() and not at_start


def _name_in(word: str, text: str) -> bool:
    # Whole words, case-insensitive; a plural "s" on either side still matches (KPI, KPIs).
    stem = word[:-1] if len(word) > 2 and word.endswith("s") else word
    return re.search(rf"(?<![A-Za-z0-9]){re.escape(stem)}s?(?![A-Za-z0-9])", text, re.IGNORECASE) is not None


def verify(reply: str | None, lines: list[str], embed: Embed, floor: float = DEFAULT_SIMILARITY_FLOOR) -> str:
    """The summary text built from a model reply, or SummaryRejected with the first failed check."""
    if reply is None or not reply.strip() or _NONE_REPLY.match(reply):
        raise SummaryRejected("empty", "the model found no answer in the lines")
    if len(reply) > MAX_REPLY_CHARS:
        raise SummaryRejected("too_long", f"reply of {len(reply)} characters")

    checked: list[tuple[str, list[int]]] = []
    for index, sentence in enumerate(_sentences(reply), start=1):
        cited = _citations(sentence)
        body = _SPACE_BEFORE_PUNCTUATION.sub("", _one_line(_CITATION.sub(" ", sentence)))
        if not _TRAILING_CITATIONS.search(sentence) or not _WORD.search(body):
            raise SummaryRejected("uncited", f"sentence {index} ends without a line number")
        unknown = [n for n in cited if not 1 <= n <= len(lines)]
        if unknown:
            raise SummaryRejected(
                "unknown_citation", f"sentence {index} cites [{unknown[0]}] of {len(lines)}"
            )
        source = " ".join(lines[n - 1] for n in cited)
        source_numbers = _numbers(source)
        for value, percent in _numbers(body):
            if (value, percent) not in source_numbers and (value, True) not in source_numbers:
                raise SummaryRejected("unsupported_number", f"sentence {index}: {value} not in its lines")
        for position, match in enumerate(_WORD.finditer(body)):
            word = match.group()
            if _is_name(word, at_start=position == 0) and not _name_in(word, source):
                raise SummaryRejected("unsupported_name", f"sentence {index}: {word} not in its lines")
        if body[-1] not in ".!?":
            body += "."
        checked.append((body, cited))
    if not checked:
        raise SummaryRejected("empty", "the reply holds no sentence")

    # One embedding call for all sentences and their cited lines. A sentence that merges two
    # cited lines is also compared with those lines joined, since it matches neither alone.
    texts: list[str] = []
    slots: list[tuple[int, list[int]]] = []
    for body, cited in checked:
        sources = [lines[n - 1] for n in cited]
        if len(sources) > 1:
            sources.append(" ".join(sources))
        slots.append((len(texts), list(range(len(texts) + 1, len(texts) + 1 + len(sources)))))
        texts += [body, *sources]
    vectors = unit_rows(embed(texts))  # `embed` may be any model, normalised or not
    for index, (row, source_rows) in enumerate(slots, start=1):
        best = float(np.max(vectors[source_rows] @ vectors[row]))
        if best < floor:
            raise SummaryRejected("low_similarity", f"sentence {index}: {best:.2f} < {floor:.2f}")

    text = " ".join(f"{body} {''.join(f'[{n}]' for n in cited)}" for body, cited in checked[:MAX_SENTENCES])
    if len(text) > MAX_CHARS:
        raise SummaryRejected("too_long", f"summary of {len(text)} characters")
    return text
