from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.checklist import load_checklist, validate_links
from indexer.errors import KnowledgeError
from indexer.knowledge import load_documents, load_out_of_scope, shipped_categories, shipped_knowledge_dir
from tests.conftest import write_doc


def test_valid_documents_load(tmp_path: Path) -> None:
    write_doc(tmp_path, "kpis-one")
    write_doc(tmp_path / "sub", "monitoring-two", category="monitoring")
    docs = load_documents([tmp_path])
    assert [d.id for d in docs] == ["kpis-one", "monitoring-two"]
    assert docs[1].meta.category == "monitoring"
    assert len(docs[0].content_hash) == 64


@pytest.mark.parametrize(
    ("override", "field", "words"),
    [
        ({"category": "vibes"}, "category", "objectives"),
        ({"id": "Not A Slug"}, "id", "slug"),
        ({"sources": "[]"}, "sources", "at least 1"),
        ({"title": None}, "title", "required"),
        ({"color": "blue"}, "color", "not permitted"),
        ({"checklist_items": "[kpis]"}, "checklist_items", "checklist item id"),
        ({"asked_as": '["too short"]'}, "asked_as", "at least 10"),
        ({"asked_as": "[" + ", ".join(["how do we pick a KPI?"] * 17) + "]"}, "asked_as", "at most 16"),
    ],
)
def test_invalid_front_matter_names_file_and_field(
    tmp_path: Path, override: dict, field: str, words: str
) -> None:
    path = write_doc(tmp_path, "kpis-bad", **override)
    with pytest.raises(KnowledgeError) as info:
        load_documents([tmp_path])
    assert info.value.path == str(path)
    assert info.value.field is not None and info.value.field.startswith(field)
    assert words in str(info.value)


def test_bad_yaml(tmp_path: Path) -> None:
    path = write_doc(tmp_path, "kpis-yaml", tags="[unclosed")
    with pytest.raises(KnowledgeError, match="not valid YAML") as info:
        load_documents([tmp_path])
    assert info.value.path == str(path)


def test_not_utf8(tmp_path: Path) -> None:
    path = write_doc(tmp_path, "kpis-latin")
    path.write_bytes(path.read_bytes().replace(b"introduction", "intr\u00f6duction".encode("latin-1")))
    with pytest.raises(KnowledgeError, match="not UTF-8") as info:
        load_documents([tmp_path])
    assert info.value.path == str(path)


def test_duplicate_id_across_folders(tmp_path: Path) -> None:
    write_doc(tmp_path / "a", "kpis-same")
    second = write_doc(tmp_path / "b", "kpis-same")
    with pytest.raises(KnowledgeError, match="duplicate id 'kpis-same'") as info:
        load_documents([tmp_path / "a", tmp_path / "b"])
    assert info.value.path == str(second)


def test_id_must_match_file_name_and_sections_required(tmp_path: Path) -> None:
    path = write_doc(tmp_path, "kpis-x")
    path.rename(tmp_path / "other-name.md")
    with pytest.raises(KnowledgeError, match="must match the file name"):
        load_documents([tmp_path])
    (tmp_path / "other-name.md").unlink()
    write_doc(tmp_path, "kpis-flat", body="No sections at all.\n")
    with pytest.raises(KnowledgeError, match="section heading"):
        load_documents([tmp_path])


def test_missing_front_matter_and_missing_folder(tmp_path: Path) -> None:
    (tmp_path / "plain.md").write_text("# Just markdown\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match="YAML block"):
        load_documents([tmp_path])
    with pytest.raises(KnowledgeError, match="does not exist"):
        load_documents([tmp_path / "nope"])


def test_checklist_link_to_missing_doc(tmp_path: Path) -> None:
    checklist_path = shipped_knowledge_dir() / "checklist.yaml"
    checklist = load_checklist(checklist_path)
    docs = load_documents([shipped_knowledge_dir()])
    validate_links(checklist, docs, checklist_path)  # the shipped base is consistent
    fewer = [d for d in docs if d.id != "kpis-choosing-a-kpi"]
    with pytest.raises(KnowledgeError, match=r"missing knowledge document 'kpis-choosing-a-kpi'") as info:
        validate_links(checklist, fewer, checklist_path)
    assert info.value.field == "kpis.defined.docs"


def test_doc_naming_unknown_checklist_item(tmp_path: Path) -> None:
    checklist_path = shipped_knowledge_dir() / "checklist.yaml"
    checklist = load_checklist(checklist_path)
    write_doc(tmp_path, "kpis-extra", checklist_items="[kpis.imaginary]")
    docs = load_documents([shipped_knowledge_dir(), tmp_path])
    with pytest.raises(KnowledgeError, match=r"unknown checklist item 'kpis\.imaginary'"):
        validate_links(checklist, docs, checklist_path)


def _mutated_checklist(tmp_path: Path, mutate) -> Path:
    raw = yaml.safe_load((shipped_knowledge_dir() / "checklist.yaml").read_text())
    mutate(raw)
    path = tmp_path / "checklist.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


def test_checklist_validation_errors(tmp_path: Path) -> None:
    def bad_kind(raw: dict) -> None:
        raw["sections"][0]["items"][1]["kind"] = "essay"

    with pytest.raises(KnowledgeError, match="kind") as info:
        load_checklist(_mutated_checklist(tmp_path, bad_kind))
    assert "objectives.ml-justified" in str(info.value)

    def dup(raw: dict) -> None:
        raw["sections"][0]["items"].append(dict(raw["sections"][0]["items"][0]))

    with pytest.raises(KnowledgeError, match="duplicate item id"):
        load_checklist(_mutated_checklist(tmp_path, dup))

    def not_blocking(raw: dict) -> None:
        for s in raw["sections"]:
            for i in s["items"]:
                if i["id"] == "kpis.defined":
                    i["blocking"] = False

    with pytest.raises(KnowledgeError, match=r"kpis\.defined"):
        load_checklist(_mutated_checklist(tmp_path, not_blocking))


def test_shipped_knowledge_meets_the_bar() -> None:
    docs = load_documents([shipped_knowledge_dir()])
    assert len(docs) >= 40
    for cat in shipped_categories():
        assert sum(d.meta.category == cat for d in docs) >= 3, cat
    for doc in docs:
        words = len(doc.body.split())
        assert 250 <= words <= 900, (doc.id, words)
        assert doc.body.count("\n## ") >= 3, doc.id
        # How people ask about it, for retrieval; a guide without them is found less often.
        assert len(doc.meta.asked_as) >= 6, doc.id
    checklist = load_checklist(shipped_knowledge_dir() / "checklist.yaml")
    assert [s.category for s in checklist.sections] == list(shipped_categories())


def test_categories_come_from_yaml(tmp_path: Path) -> None:
    """A knowledge folder adds a category with its own categories.yaml; an unknown one is refused."""
    doc = tmp_path / "x.md"
    doc.write_text(
        "---\nid: x\ntitle: X\ncategory: genai-pilot\nsources: [s]\n---\n\n## A\n\nText.\n",
        encoding="utf-8",
    )
    with pytest.raises(KnowledgeError, match=r"x\.md: field 'category': unknown category 'genai-pilot'"):
        load_documents([tmp_path])
    (tmp_path / "categories.yaml").write_text(
        "categories:\n  - slug: genai-pilot\n    title: generative AI pilots\n", encoding="utf-8"
    )
    assert [d.meta.category for d in load_documents([tmp_path])] == ["genai-pilot"]
    (tmp_path / "categories.yaml").write_text("categories:\n  - slug: Not A Slug\n    title: t\n")
    with pytest.raises(KnowledgeError, match=r"categories\.yaml: field 'categories\.0\.slug'"):
        load_documents([tmp_path])


def test_questions_to_decline_come_from_yaml(tmp_path: Path) -> None:
    """The shipped out_of_scope.yaml, plus one in a knowledge folder (each question once, spaces
    collapsed); a bad file is refused, naming the file and the entry."""
    shipped = load_out_of_scope()
    assert len(shipped) >= 100 and len(set(shipped)) == len(shipped)
    own = tmp_path / "out_of_scope.yaml"
    own.write_text(
        f'questions:\n  - "who  books the\tmeeting rooms?"\n  - "{shipped[0]}"\n', encoding="utf-8"
    )
    assert load_out_of_scope([tmp_path]) == [*shipped, "who books the meeting rooms?"]
    own.write_text('questions:\n  - "hi there"\n', encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"out_of_scope\.yaml: field 'questions\.0': .*at least 10"):
        load_out_of_scope([tmp_path])
    own.write_text("questions: []\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"out_of_scope\.yaml: field 'questions'"):
        load_out_of_scope([tmp_path])
    own.write_text("questions: [unclosed\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"out_of_scope\.yaml.*not valid YAML"):
        load_out_of_scope([tmp_path])


def test_checklist_file_from_a_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """MLREADY_CHECKLIST_FILE replaces the shipped checklist wherever the app loads it."""
    from bot.knowledge_base import load_knowledge
    from bot.settings import Settings

    shipped = (shipped_knowledge_dir() / "checklist.yaml").read_text(encoding="utf-8")
    own = tmp_path / "ours.yaml"
    own.write_text(shipped.replace("title: Objectives", "title: Our objectives"), encoding="utf-8")
    monkeypatch.setenv("MLREADY_CHECKLIST_FILE", str(own))
    kb = load_knowledge(Settings())
    assert kb.checklist.sections[0].title == "Our objectives"
    own.write_text(shipped.replace("category: objectives", "category: astrology", 1), encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"ours\.yaml: field 'sections\.0\.category': unknown category"):
        load_knowledge(Settings())
