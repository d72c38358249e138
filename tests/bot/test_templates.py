"""Checklist templates: shipped, from folders and imported; each project's frozen version."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from bot import projects
from bot.checklist import ResponseValue, load_shipped_checklist
from bot.db.migrate import open_database
from bot.db.models import ChecklistTemplate, ResponseHistory
from bot.readiness import project_state, record_response
from bot.templates import TemplateCatalog, TemplateError, build_template, shipped_templates
from indexer.errors import KnowledgeError
from indexer.knowledge import load_documents, shipped_categories, shipped_knowledge_dir

SHIPPED = load_shipped_checklist()
DOC_IDS = {d.id for d in load_documents([shipped_knowledge_dir()])}


def catalog(*dirs: Path) -> TemplateCatalog:
    return TemplateCatalog(SHIPPED, shipped_categories(), DOC_IDS, list(dirs))


def write(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


ACME = {
    "name": "acme",
    "title": "ACME review",
    "version": 1,
    "extends": "default",
    "turn_off": ["objectives.scope"],
    "help": {"objectives.problem-statement": "Use the ACME one-pager."},
    "sections": [
        {
            "category": "objectives",
            "title": "Objectives",
            "items": [
                {
                    "id": "objectives.acme-board",
                    "question": "Has the model risk board seen the proposal?",
                    "help": "Book a slot at the monthly board.",
                    "kind": "yesno",
                    "blocking": True,
                    "docs": ["objectives-problem-statement"],
                }
            ],
        }
    ],
}


def test_shipped_templates() -> None:
    shipped = shipped_templates(SHIPPED)
    assert set(shipped) == {"default", "genai", "quick"}
    quick = shipped["quick"].checklist
    assert quick.items() and all(i.blocking for i in quick.items())
    assert {i.id for i in quick.items()} == {i.id for i in SHIPPED.items() if i.blocking}
    assert not any(s.optional for s in shipped["genai"].checklist.sections)
    assert any(s.optional for s in shipped["default"].checklist.sections)


def test_a_template_extends_turns_off_and_rewrites_help() -> None:
    t = build_template(ACME, "acme.yaml", shipped_templates(SHIPPED), shipped_categories(), DOC_IDS, "import")
    ids = [i.id for i in t.checklist.items()]
    assert "objectives.scope" not in ids and "objectives.acme-board" in ids
    assert len(ids) == len(SHIPPED.items())  # one off, one on
    assert t.checklist.item("objectives.problem-statement").help == "Use the ACME one-pager."
    # the added item sits in the section of its category, not in a second "objectives"
    assert [s.category for s in t.checklist.sections] == [s.category for s in SHIPPED.sections]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            {
                "sections": [
                    {
                        **ACME["sections"][0],
                        "items": [{**ACME["sections"][0]["items"][0], "id": "objectives.scope"}],
                    }
                ]
            },
            "sections.0.items.0.id",
            "repeats the item id 'objectives.scope'",
        ),
        (
            {
                "sections": [
                    {
                        **ACME["sections"][0],
                        "items": [{**ACME["sections"][0]["items"][0], "docs": ["no-such-guide"]}],
                    }
                ]
            },
            "objectives.acme-board.docs",
            "unknown guide 'no-such-guide'",
        ),
        (
            {
                "sections": [
                    {
                        **ACME["sections"][0],
                        "category": "astrology",
                        "items": [{**ACME["sections"][0]["items"][0], "id": "astrology.x"}],
                    }
                ]
            },
            "sections.",
            "unknown category 'astrology'",
        ),
        ({"extends": "nope"}, "extends", "unknown template 'nope'"),
        ({"turn_off": ["objectives.nope"]}, "turn_off.0", "unknown checklist item"),
        ({"name": "quick"}, "name", "shipped template"),
        ({"name": "Bad Name"}, "name", "pattern"),
        ({"colour": "red"}, "colour", "Extra inputs"),
    ],
)
def test_bad_templates_name_file_item_and_field(change: dict, field: str, message: str) -> None:
    with pytest.raises(KnowledgeError) as err:
        build_template(
            {**ACME, **change},
            "acme.yaml",
            shipped_templates(SHIPPED),
            shipped_categories(),
            DOC_IDS,
            "import",
        )
    text = str(err.value)
    assert "acme.yaml" in text and field in text and message in text, text


def test_a_template_without_a_blocking_item_is_refused() -> None:
    blocking = [i.id for i in SHIPPED.items() if i.blocking]
    with pytest.raises(KnowledgeError, match="no blocking item"):
        build_template(
            {**ACME, "turn_off": blocking, "sections": []},
            "acme.yaml",
            shipped_templates(SHIPPED),
            shipped_categories(),
            DOC_IDS,
            "import",
        )


def test_folder_templates_load_at_start_and_bad_ones_stop_it(tmp_path: Path) -> None:
    write(tmp_path / "acme.yaml", ACME)
    assert "acme" in catalog(tmp_path).builtin
    bad = tmp_path / "bad"
    bad.mkdir()
    write(bad / "broken.yaml", {**ACME, "name": "broken", "extends": "nope"})
    with pytest.raises(KnowledgeError, match=r"broken\.yaml"):
        catalog(bad)
    with pytest.raises(KnowledgeError, match="not found"):
        catalog(tmp_path / "missing")


def test_import_is_validated_versioned_and_atomic(database_url: str, tmp_path: Path) -> None:
    db = open_database(database_url)
    templates = catalog()
    path = write(tmp_path / "acme.yaml", ACME)
    with db.session() as s:
        assert templates.import_file(s, "T1", path).created
    with db.session() as s:  # the same content again changes nothing
        assert not templates.import_file(s, "T1", path).created
    changed = write(tmp_path / "acme2.yaml", {**ACME, "turn_off": []})
    with pytest.raises(KnowledgeError, match="version: 2"), db.session() as s:
        templates.import_file(s, "T1", changed)
    broken = write(tmp_path / "broken.yaml", {**ACME, "version": 2, "turn_off": ["x.y"]})
    with pytest.raises(KnowledgeError, match=r"broken\.yaml.*turn_off\.0"), db.session() as s:
        templates.import_file(s, "T1", broken)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(ChecklistTemplate)) == 1
        assert "acme" in templates.available(s, "T1") and "acme" not in templates.available(s, "T2")
        with pytest.raises(TemplateError, match="Templates: acme, default, genai, quick"):
            templates.resolve(s, "T1", "acne")
    db.dispose()


def test_a_project_keeps_its_version_until_the_owner_upgrades(database_url: str, tmp_path: Path) -> None:
    db = open_database(database_url)
    templates = catalog()
    with db.session() as s:
        templates.import_file(s, "T1", write(tmp_path / "v1.yaml", ACME))
        project = projects.create_project(s, "T1", "C1", "UOWNER", "churn")
        project.template_id = templates.freeze(s, "T1", templates.resolve(s, "T1", "acme")).id
        record_response(s, project, templates.checklist_for(s, project), "objectives.acme-board", "yes", "U2")
        pid = project.id
    v2 = {**ACME, "version": 2}  # acme-board replaced by acme-legal
    v2["sections"] = [
        {**ACME["sections"][0], "items": [{**ACME["sections"][0]["items"][0], "id": "objectives.acme-legal"}]}
    ]
    with db.session() as s:
        templates.import_file(s, "T1", write(tmp_path / "v2.yaml", v2))
    with db.session() as s:
        project = projects.get_project(s, "T1", pid)
        state = project_state(s, project, templates)
        assert state.template == "acme" and state.checklist.version == 1  # not moved by the import
        assert state.values["objectives.acme-board"] == ResponseValue.yes
        with pytest.raises(TemplateError, match="Only the project owner"):
            templates.upgrade(s, project, "U2")
        change = templates.upgrade(s, project, "UOWNER")
        assert change.changed and change.version == 2
        assert change.added == ["objectives.acme-legal"] and change.retired == ["objectives.acme-board"]
    with db.session() as s:
        project = projects.get_project(s, "T1", pid)
        state = project_state(s, project, templates)
        assert state.checklist.version == 2 and "objectives.acme-board" not in state.values
        assert state.checklist.item("objectives.acme-board") is None
        # the retired item's history stays
        assert s.scalar(select(func.count()).select_from(ResponseHistory)) == 1
        assert not templates.upgrade(s, project, "UOWNER").changed
    db.dispose()


def test_the_readme_example_template_loads() -> None:
    folder = Path(__file__).resolve().parents[2] / "examples" / "checklist-templates"
    template = catalog(folder).builtin["acme-review"]
    ids = {i.id for i in template.checklist.items()}
    assert "responsible-ai.risk-board" in ids and "objectives.scope" not in ids
    assert template.version == 2 and template.source == "directory"
