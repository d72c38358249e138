"""Split documents into `##` sections, sections into answer units and overlapping chunks.

A unit is one sentence of prose or one bullet: the smallest piece an answer quotes.
A chunk is a window of consecutive units of one section: the piece retrieval ranks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from indexer.knowledge import KnowledgeDoc

# 3: units are embedded with their guide's title and section, as chunks are; 4: asked_as questions
CHUNKER_VERSION = 4
MAX_CHUNK_WORDS = 220
OVERLAP_WORDS = 50
INTRO_SECTION = "Overview"
# Profiles: a guide's title, tags and aliases, and each of its asked_as questions, as chunks of
# their own. They are ranked like any chunk but quote nothing.
PROFILE_SECTION = "Topic"
ASKED_AS_SECTION = "Asked as"

_HEADING_RE = re.compile(r"^##\s+(.+?)\s*#*\s*$")
_BULLET_RE = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_SENTENCE_END_RE = re.compile(r"(?<=[.!?])[\"')\]]?\s+(?=[A-Z0-9\"'(\[])")
_INLINE_MD_RE = re.compile(r"(\*\*|__|`)")
_LINK_RE = re.compile(r"\[([^\]]+)\]\([^)]+\)")


@dataclass(frozen=True)
class Section:
    heading: str
    units: tuple[str, ...]


@dataclass(frozen=True)
class Unit:
    id: str  # stable while the section keeps its heading and order: "<doc>#what-to-do-2"
    section: str
    text: str
    title: str  # of the guide


def in_context(title: str, section: str, text: str) -> str:
    """What is embedded for a chunk or a unit: the text under its guide's title and section
    heading. A bullet alone says little; in context, it is found by the questions it answers."""
    return f"{title}. {section}. {text}"


@dataclass(frozen=True)
class Chunk:
    doc_id: str
    section: str
    text: str
    unit_start: int  # index into the document's units
    unit_end: int  # exclusive


def clean_inline(text: str) -> str:
    text = _LINK_RE.sub(r"\1", text)
    text = _INLINE_MD_RE.sub("", text)
    return re.sub(r"\s+", " ", text).strip()


_ABBREVIATIONS = ("et al.", "e.g.", "i.e.", "etc.", "vs.", "cf.", "approx.", "Dr.", "No.", "Fig.")


def split_sentences(paragraph: str) -> list[str]:
    sentences: list[str] = []
    for piece in _SENTENCE_END_RE.split(paragraph):
        piece = piece.strip()
        if not piece:
            continue
        if sentences and sentences[-1].endswith(_ABBREVIATIONS):
            sentences[-1] = f"{sentences[-1]} {piece}"
        else:
            sentences.append(piece)
    return sentences


def _units_of(lines: list[str]) -> list[str]:
    """Bullets stay whole; prose paragraphs are split into sentences."""
    units: list[str] = []
    paragraph: list[str] = []
    bullet: list[str] | None = None

    def flush() -> None:
        nonlocal bullet
        if bullet is not None:
            units.append(clean_inline(" ".join(bullet)))
            bullet = None
        if paragraph:
            units.extend(split_sentences(clean_inline(" ".join(paragraph))))
            paragraph.clear()

    for line in lines:
        if not line.strip():
            flush()
        elif _BULLET_RE.match(line):
            flush()
            bullet = [_BULLET_RE.sub("", line, count=1)]
        elif bullet is not None and line.startswith((" ", "\t")):
            bullet.append(line.strip())
        else:
            if bullet is not None:
                flush()
            paragraph.append(line.strip().lstrip("#").strip())
    flush()
    return [u for u in units if u]


def split_sections(body: str) -> list[Section]:
    sections: list[Section] = []
    heading = INTRO_SECTION
    lines: list[str] = []
    for line in body.splitlines():
        match = _HEADING_RE.match(line)
        if match:
            units = _units_of(lines)
            if units:
                sections.append(Section(heading, tuple(units)))
            heading, lines = clean_inline(match.group(1)), []
        else:
            lines.append(line)
    units = _units_of(lines)
    if units:
        sections.append(Section(heading, tuple(units)))
    return sections


def _windows(units: tuple[str, ...], max_words: int, overlap_words: int) -> list[tuple[int, int]]:
    """Windows of whole units up to max_words; consecutive windows share about overlap_words."""
    lengths = [len(u.split()) for u in units]
    windows: list[tuple[int, int]] = []
    start = 0
    while start < len(units):
        end, words = start, 0
        while end < len(units) and (end == start or words + lengths[end] <= max_words):
            words += lengths[end]
            end += 1
        windows.append((start, end))
        if end >= len(units):
            break
        back, shared = end, 0
        while back - 1 > start and shared + lengths[back - 1] <= overlap_words:
            back -= 1
            shared += lengths[back]
        start = back
    return windows


def section_slug(heading: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", heading.lower()).strip("-") or "section"


def profile_text(doc: KnowledgeDoc) -> str:
    parts = [doc.meta.title, ", ".join(doc.meta.tags), ", ".join(doc.meta.aliases)]
    return ". ".join(p for p in parts if p)


def chunk_document(
    doc: KnowledgeDoc, max_words: int = MAX_CHUNK_WORDS, overlap_words: int = OVERLAP_WORDS
) -> tuple[list[Unit], list[Chunk]]:
    """Return the document's units and its chunks; the first chunk is the document's profile,
    then one chunk per asked_as question (embedded alone: a question is closest to questions)."""
    units: list[Unit] = []
    chunks: list[Chunk] = [Chunk(doc.id, PROFILE_SECTION, profile_text(doc), 0, 0)]
    chunks += [Chunk(doc.id, ASKED_AS_SECTION, question, 0, 0) for question in doc.meta.asked_as]
    for section in split_sections(doc.body):
        offset = len(units)
        slug = section_slug(section.heading)
        units.extend(
            Unit(f"{doc.id}#{slug}-{n}", section.heading, text, doc.meta.title)
            for n, text in enumerate(section.units, 1)
        )
        for start, end in _windows(section.units, max_words, overlap_words):
            body = " ".join(section.units[start:end])
            text = in_context(doc.meta.title, section.heading, body)
            chunks.append(Chunk(doc.id, section.heading, text, offset + start, offset + end))
    return units, chunks
