"""The readiness checklist as data, and its scoring (the ML Test Score idea).

yes = 1, partial = 0.5, no = 0, n/a left out; unanswered items count as 0. Each
section is scored; the overall score is the weakest section; every blocking item
that is unanswered or "no" is a gap.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from indexer.errors import KnowledgeError
from indexer.knowledge import CHECKLIST_ID_RE, KnowledgeDoc, check_category, load_categories
from indexer.yaml_text import parse_yaml


class ResponseValue(StrEnum):
    yes = "yes"
    partial = "partial"
    no = "no"
    na = "n-a"


# How a response is named wherever it is shown (buttons, status, reports).
RESPONSE_LABELS: dict[ResponseValue, str] = {
    ResponseValue.yes: "Yes",
    ResponseValue.partial: "Partial",
    ResponseValue.no: "No",
    ResponseValue.na: "N/A",
}
# Technical items follow the ML Test Score's scale: done and automated = 1, done by hand = 0.5.
AUTOMATION_LABELS: dict[ResponseValue, str] = {
    ResponseValue.yes: "Automated",
    ResponseValue.partial: "By hand",
    ResponseValue.no: "No",
    ResponseValue.na: "N/A",
}

POINTS: dict[ResponseValue, float] = {
    ResponseValue.yes: 1.0,
    ResponseValue.partial: 0.5,
    ResponseValue.no: 0.0,
}


class ChecklistItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    question: str = Field(min_length=1)
    help: str = Field(min_length=1)
    kind: Literal["yesno", "kpi", "signoff"]
    blocking: bool
    docs: list[str] = Field(default_factory=list)
    # "automation": answered Automated / By hand / No (the ML Test Score's 1 / 0.5 / 0)
    scale: Literal["default", "automation"] = "default"

    @property
    def labels(self) -> dict[ResponseValue, str]:
        return AUTOMATION_LABELS if self.scale == "automation" else RESPONSE_LABELS

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not CHECKLIST_ID_RE.match(value):
            raise ValueError("must look like 'section.item', e.g. 'kpis.defined'")
        return value


class ChecklistSection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: str = Field(min_length=1, max_length=40)
    title: str
    items: list[ChecklistItem] = Field(min_length=1)
    # An optional section (e.g. genai, for projects that use an LLM) counts, gaps included,
    # only once one of its items has a response; until then it is left out of the score.
    optional: bool = False


class Checklist(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int
    sections: list[ChecklistSection]

    def items(self) -> list[ChecklistItem]:
        return [item for section in self.sections for item in section.items]

    def item(self, item_id: str) -> ChecklistItem | None:
        return next((i for i in self.items() if i.id == item_id), None)

    def section(self, category: str) -> ChecklistSection | None:
        return next((s for s in self.sections if s.category == category), None)


REQUIRED_ITEMS = {
    "objectives.problem-statement": "yesno",
    "kpis.defined": "kpi",
    "stakeholders.signoff": "signoff",
}


def read_yaml(path: Path) -> object:
    """A YAML file's data; raises KnowledgeError naming the file."""
    try:
        return parse_yaml(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        raise KnowledgeError(path, None, "is not UTF-8 text; save it as UTF-8") from None
    except yaml.YAMLError as exc:
        raise KnowledgeError(path, None, f"is not valid YAML: {exc}") from None
    except FileNotFoundError:
        raise KnowledgeError(path, None, "file not found") from None
    except IsADirectoryError:
        raise KnowledgeError(path, None, "is a folder, not a YAML file") from None


def load_checklist(path: Path) -> Checklist:
    return checklist_from_data(read_yaml(path), path, load_categories([path.parent]))


def checklist_from_data(
    raw: object, path: Path | str, known: dict[str, str], required: bool = True
) -> Checklist:
    """Validate checklist data; errors name the file, the item and the field.

    `required`: the items the bot's own flows answer (problem statement, KPI, sign-off) must be
    there; a team's template only needs some blocking item."""
    try:
        checklist = Checklist.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise KnowledgeError(path, field_path(raw, err["loc"]), err["msg"]) from None
    seen_sections: set[str] = set()
    seen_items: set[str] = set()
    for s_index, section in enumerate(checklist.sections):
        check_category(path, f"sections.{s_index}.category", section.category, known)
        if section.category in seen_sections:
            raise KnowledgeError(
                path, f"sections.{s_index}.category", f"duplicate section '{section.category}'"
            )
        seen_sections.add(section.category)
        for i_index, item in enumerate(section.items):
            where = f"sections.{s_index}.items.{i_index}.id"
            if item.id in seen_items:
                raise KnowledgeError(path, where, f"duplicate item id '{item.id}'")
            if item.id.split(".")[0] != section.category:
                raise KnowledgeError(
                    path, where, f"'{item.id}' must start with its section '{section.category}.'"
                )
            seen_items.add(item.id)
    if required:
        for item_id, kind in REQUIRED_ITEMS.items():
            item = checklist.item(item_id)
            if item is None or item.kind != kind or not item.blocking:
                raise KnowledgeError(path, item_id, f"required blocking item of kind '{kind}'")
    elif not any(item.blocking for item in checklist.items()):
        raise KnowledgeError(path, "sections", "has no blocking item; mark at least one `blocking: true`")
    return checklist


def field_path(raw: object, loc: tuple) -> str:
    """'sections.2.items.0.kind' plus the item id when there is one, for a readable message."""
    dotted = ".".join(str(p) for p in loc)
    try:
        item = raw["sections"][loc[1]]["items"][loc[3]]  # type: ignore[index]
        return f"{dotted} (item '{item['id']}')"
    except (KeyError, IndexError, TypeError):
        return dotted


def validate_links(checklist: Checklist, docs: list[KnowledgeDoc], path: Path) -> None:
    """Every checklist link names a loaded document and every document names real items."""
    doc_ids = {d.id for d in docs}
    for item in checklist.items():
        for doc_id in item.docs:
            if doc_id not in doc_ids:
                raise KnowledgeError(
                    path, f"{item.id}.docs", f"links to missing knowledge document '{doc_id}'"
                )
    item_ids = {i.id for i in checklist.items()}
    for doc in docs:
        for item_id in doc.meta.checklist_items:
            if item_id not in item_ids:
                raise KnowledgeError(doc.path, "checklist_items", f"names unknown checklist item '{item_id}'")


@dataclass(frozen=True)
class SectionScore:
    category: str
    title: str
    score: float  # 0..1; 1.0 when every item is n/a
    answered: int
    total: int
    not_applicable: int = 0


@dataclass(frozen=True)
class Gap:
    item: ChecklistItem
    response: ResponseValue | None


@dataclass(frozen=True)
class Readiness:
    sections: list[SectionScore]
    overall: float
    weakest: str
    gaps: list[Gap]
    answered: int
    total: int
    not_applicable: int = 0

    @property
    def coverage(self) -> float:
        """Answered share of the items that apply (N/A left out), beside the strict score."""
        applicable = self.total - self.not_applicable
        return (self.answered - self.not_applicable) / applicable if applicable else 1.0


def score(checklist: Checklist, responses: Mapping[str, ResponseValue]) -> Readiness:
    sections: list[SectionScore] = []
    gaps: list[Gap] = []
    for section in checklist.sections:
        if section.optional and not any(item.id in responses for item in section.items):
            continue
        points, counted, answered, na = 0.0, 0, 0, 0
        for item in section.items:
            value = responses.get(item.id)
            if value is not None:
                answered += 1
            if value == ResponseValue.na:
                na += 1
                continue
            counted += 1
            points += POINTS.get(value, 0.0) if value is not None else 0.0
            if item.blocking and value in (None, ResponseValue.no):
                gaps.append(Gap(item, value))
        section_score = points / counted if counted else 1.0
        sections.append(
            SectionScore(section.category, section.title, section_score, answered, len(section.items), na)
        )
    weakest = min(sections, key=lambda s: s.score)
    return Readiness(
        sections=sections,
        overall=weakest.score,
        weakest=weakest.category,
        gaps=gaps,
        answered=sum(s.answered for s in sections),
        total=sum(s.total for s in sections),
        not_applicable=sum(s.not_applicable for s in sections),
    )


def shipped_checklist_path() -> Path:
    from indexer.knowledge import shipped_knowledge_dir

    return shipped_knowledge_dir() / "checklist.yaml"


def load_shipped_checklist() -> Checklist:
    return load_checklist(shipped_checklist_path())


__all__ = ["Checklist", "Readiness", "ResponseValue", "load_checklist", "score"]
