"""Load and validate knowledge documents: Markdown with YAML front matter."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from indexer.errors import KnowledgeError
from indexer.yaml_text import parse_yaml

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
CHECKLIST_ID_RE = re.compile(r"^[a-z0-9-]+\.[a-z0-9-]+$")
FRONT_MATTER_RE = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
SKIPPED_FILES = {"README.md"}
CATEGORIES_FILE = "categories.yaml"
OUT_OF_SCOPE_FILE = "out_of_scope.yaml"
_Model = TypeVar("_Model", bound=BaseModel)


class CategoryEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    slug: str = Field(min_length=1, max_length=40)
    title: str = Field(min_length=1, max_length=80)

    @field_validator("slug")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG_RE.match(value):
            raise ValueError("must be a lowercase slug such as 'data-quality'")
        return value


class CategoriesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    categories: list[CategoryEntry] = Field(min_length=1)


def load_categories(directories: list[Path] | None = None) -> dict[str, str]:
    """Slug → title from the shipped categories.yaml and any categories.yaml in `directories`."""
    found: dict[str, str] = {}
    for path in _knowledge_files(CATEGORIES_FILE, directories):
        for entry in _parse_file(path, CategoriesFile).categories:
            found.setdefault(entry.slug, entry.title)
    return found


class OutOfScopeFile(BaseModel):
    """Questions the bot must decline, as people ask them: the answering path compares a
    question with these and with the guides' asked_as questions."""

    model_config = ConfigDict(extra="forbid")

    questions: list[Annotated[str, Field(min_length=10, max_length=300)]] = Field(min_length=1)


def _knowledge_files(name: str, directories: list[Path] | None) -> list[Path]:
    """The shipped folder's file `name` and those of `directories`, each once, in that order."""
    found: list[Path] = []
    for directory in [shipped_knowledge_dir(), *(directories or [])]:
        path = (directory / name).resolve()
        if path not in found and path.is_file():
            found.append(path)
    return found


def _parse_file(path: Path, model: type[_Model]) -> _Model:
    try:
        return model.model_validate(parse_yaml(_read_text(path)))
    except yaml.YAMLError as exc:
        raise KnowledgeError(path, None, f"is not valid YAML: {exc}") from None
    except ValidationError as exc:
        err = exc.errors()[0]
        raise KnowledgeError(path, ".".join(str(p) for p in err["loc"]) or None, err["msg"]) from None


def load_out_of_scope(directories: list[Path] | None = None) -> list[str]:
    """The shipped out_of_scope.yaml's questions and those of any in `directories`, each once
    (whitespace collapsed)."""
    questions: dict[str, None] = {}
    for path in _knowledge_files(OUT_OF_SCOPE_FILE, directories):
        for question in _parse_file(path, OutOfScopeFile).questions:
            questions.setdefault(" ".join(question.split()), None)
    return list(questions)


@cache
def shipped_categories() -> dict[str, str]:
    return load_categories()


def category_title(slug: str) -> str:
    return shipped_categories().get(slug, slug)


def check_category(path: Path | str, field: str, slug: str, known: dict[str, str]) -> None:
    if slug not in known:
        raise KnowledgeError(
            path,
            field,
            f"unknown category '{slug}'; use one of {', '.join(known)} "
            f"or add it to a {CATEGORIES_FILE} in the knowledge folder",
        )


class FrontMatter(BaseModel):
    """The YAML header every knowledge document carries."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str = Field(min_length=1, max_length=80)
    title: str = Field(min_length=1, max_length=200)
    category: str = Field(min_length=1, max_length=40)
    tags: list[str] = Field(default_factory=list)
    # Words people use for the topic that the text itself may not ("biased" for fairness).
    aliases: list[str] = Field(default_factory=list)
    # Questions as people ask them in chat, not in the guide's terms: each is indexed as its
    # own passage, so a question is matched against questions (doc2query, written by hand).
    asked_as: list[Annotated[str, Field(min_length=10, max_length=300)]] = Field(
        default_factory=list, max_length=16
    )
    checklist_items: list[str] = Field(default_factory=list)
    sources: list[str] = Field(min_length=1)

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG_RE.match(value):
            raise ValueError("must be a lowercase slug such as 'kpis-choosing-a-kpi'")
        return value

    @field_validator("checklist_items")
    @classmethod
    def _item_ids(cls, value: list[str]) -> list[str]:
        for item in value:
            if not CHECKLIST_ID_RE.match(item):
                raise ValueError(f"'{item}' is not a checklist item id such as 'kpis.defined'")
        return value

    @field_validator("sources")
    @classmethod
    def _non_empty_sources(cls, value: list[str]) -> list[str]:
        if any(not s.strip() for s in value):
            raise ValueError("sources may not contain empty entries")
        return value


@dataclass(frozen=True)
class KnowledgeDoc:
    meta: FrontMatter
    body: str
    path: Path
    content_hash: str

    @property
    def id(self) -> str:
        return self.meta.id


def _read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise KnowledgeError(path, None, f"is not UTF-8 text (byte {exc.start}); save it as UTF-8") from None


def parse_document(path: Path) -> KnowledgeDoc:
    """Parse one Markdown file; raise KnowledgeError naming the file and field."""
    text = _read_text(path).lstrip("\ufeff")
    match = FRONT_MATTER_RE.match(text)
    if not match:
        raise KnowledgeError(path, "front matter", "must start with a YAML block between '---' lines")
    try:
        raw = parse_yaml(match.group(1))
    except yaml.YAMLError as exc:
        raise KnowledgeError(path, "front matter", f"is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise KnowledgeError(path, "front matter", "must be a YAML mapping of fields")
    try:
        meta = FrontMatter.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "front matter"
        raise KnowledgeError(path, field, err["msg"]) from None
    if meta.id != path.stem:
        raise KnowledgeError(path, "id", f"'{meta.id}' must match the file name '{path.stem}.md'")
    body = text[match.end() :].strip()
    if "\n## " not in "\n" + body:
        raise KnowledgeError(path, "body", "needs at least one '## ' section heading")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return KnowledgeDoc(meta=meta, body=body, path=path, content_hash=digest)


def iter_markdown(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*.md") if p.is_file() and p.name not in SKIPPED_FILES)


def load_documents(directories: list[Path]) -> list[KnowledgeDoc]:
    """Load every document under the given folders; ids must be unique across all of them."""
    docs: list[KnowledgeDoc] = []
    seen: dict[str, Path] = {}
    known = load_categories(directories)
    for directory in directories:
        if not directory.is_dir():
            raise KnowledgeError(directory, None, "knowledge folder does not exist")
        for path in iter_markdown(directory):
            doc = parse_document(path)
            if doc.id in seen:
                raise KnowledgeError(path, "id", f"duplicate id '{doc.id}', already used by {seen[doc.id]}")
            check_category(path, "category", doc.meta.category, known)
            seen[doc.id] = path
            docs.append(doc)
    if not docs:
        raise KnowledgeError(
            ", ".join(str(d) for d in directories), None, "no knowledge documents (*.md) found"
        )
    return docs


def shipped_knowledge_dir() -> Path:
    """The knowledge folder that ships with mlready (repo checkout or installed wheel)."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "knowledge", here / "_shipped_knowledge"):
        if (candidate / "checklist.yaml").is_file():
            return candidate
    raise KnowledgeError(here, None, "the shipped knowledge folder is missing; reinstall mlready")
