from __future__ import annotations

import itertools
from pathlib import Path

from indexer.chunking import (
    ASKED_AS_SECTION,
    INTRO_SECTION,
    PROFILE_SECTION,
    chunk_document,
    split_sections,
)
from indexer.knowledge import parse_document
from tests.conftest import write_doc


def test_sections_units_and_bullets() -> None:
    body = (
        "Intro sentence one. Intro sentence two.\n\n"
        "## What to do\n"
        "- First bullet has **bold** text.\n"
        "  It continues on an indented line.\n"
        "- Second bullet.\n\n"
        "A closing paragraph. It has two sentences.\n\n"
        "## Questions to ask the team\n"
        "1. Who owns it?\n"
    )
    sections = split_sections(body)
    assert [s.heading for s in sections] == [INTRO_SECTION, "What to do", "Questions to ask the team"]
    assert sections[0].units == ("Intro sentence one.", "Intro sentence two.")
    assert sections[1].units == (
        "First bullet has bold text. It continues on an indented line.",
        "Second bullet.",
        "A closing paragraph.",
        "It has two sentences.",
    )
    assert sections[2].units == ("Who owns it?",)


def test_long_section_split_with_overlap(tmp_path: Path) -> None:
    sentences = [f"Sentence number {i} talks about data quality checks in detail." for i in range(60)]
    body = "Intro.\n\n## What goes wrong\n" + " ".join(sentences) + "\n"
    doc = parse_document(write_doc(tmp_path, "data-quality-long", body=body))
    units, chunks = chunk_document(doc, max_words=100, overlap_words=25)
    long_chunks = [c for c in chunks if c.section == "What goes wrong"]
    assert len(long_chunks) > 3
    for c in long_chunks:
        assert len(" ".join(u.text for u in units[c.unit_start : c.unit_end]).split()) <= 100
        assert c.text.startswith("Data Quality Long. What goes wrong.")
    # Consecutive chunks share units, and together they cover the whole section.
    for a, b in itertools.pairwise(long_chunks):
        assert b.unit_start < a.unit_end
    covered = {i for c in long_chunks for i in range(c.unit_start, c.unit_end)}
    assert covered == {i for i, u in enumerate(units) if u.section == "What goes wrong"}


def test_every_unit_lands_in_a_chunk(tmp_path: Path) -> None:
    doc = parse_document(write_doc(tmp_path, "kpis-short"))
    units, chunks = chunk_document(doc)
    covered = {i for c in chunks for i in range(c.unit_start, c.unit_end)}
    assert covered == set(range(len(units)))
    assert {c.section for c in chunks} == {PROFILE_SECTION, INTRO_SECTION, "What goes wrong", "What to do"}


def test_unit_ids_name_document_section_and_position(tmp_path: Path) -> None:
    doc = parse_document(write_doc(tmp_path, "kpis-short"))
    units, chunks = chunk_document(doc)
    ids = [u.id for u in units]
    assert len(set(ids)) == len(ids)
    todo = [u for u in units if u.section == "What to do"]
    assert [u.id for u in todo] == [f"kpis-short#what-to-do-{n}" for n in range(1, len(todo) + 1)]
    profile = chunks[0]
    assert profile.section == PROFILE_SECTION and profile.unit_start == profile.unit_end
    assert profile.text.startswith(doc.meta.title)


def test_abbreviations_do_not_end_sentences() -> None:
    sections = split_sections(
        "## Sources\nBreck et al. (2017) list 28 tests. Teams skip them, e.g. Monitoring ones.\n"
    )
    assert sections[0].units == (
        "Breck et al. (2017) list 28 tests.",
        "Teams skip them, e.g. Monitoring ones.",
    )


def test_asked_as_questions_are_chunks_of_their_own(tmp_path: Path) -> None:
    asked = ["our churn model looks great offline, so why did nothing change?", "which number do we report?"]
    doc = parse_document(write_doc(tmp_path, "kpis-asked", asked_as='["' + '", "'.join(asked) + '"]'))
    units, chunks = chunk_document(doc)
    extra = [c for c in chunks if c.section == ASKED_AS_SECTION]
    # Embedded alone, without the title: a user's question is matched against a question.
    assert [c.text for c in extra] == asked
    # Like the profile, they are ranked but cover no unit, so nothing of them is ever quoted.
    assert all(c.unit_start == c.unit_end == 0 for c in extra)
    assert not any(u.section == ASKED_AS_SECTION or u.text in asked for u in units)
