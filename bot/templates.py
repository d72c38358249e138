"""Checklist templates: the shipped ones, a workspace's own (files and imports), and the frozen
version each project keeps until its owner upgrades it. No Slack imports here.

A template file has the checklist's schema plus a name, and may build on another template:

    name: acme-review
    title: ACME model review
    version: 2
    extends: default          # optional; without it, `sections` is the whole checklist
    turn_off: [objectives.scope]
    help: {objectives.problem-statement: "Use the ACME one-pager."}
    sections: [...]           # new sections, or new items in a section of the same category
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.checklist import Checklist, checklist_from_data, field_path, read_yaml
from bot.text import escape_mrkdwn
from indexer.errors import KnowledgeError

# The database is imported where it is used: `mlready ask` loads the catalog but never the
# database, and SQLAlchemy with our models would add a third of a second to its start.
if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from bot.db.models import ChecklistTemplate, Project

log = logging.getLogger(__name__)

DEFAULT = "default"
SHIPPED = (DEFAULT, "genai", "quick")
NAME_PATTERN = r"^[a-z0-9][a-z0-9-]{1,39}$"


class TemplateError(ValueError):
    """A template that cannot be used or imported; the message says what to do."""


class TemplateFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME_PATTERN)
    title: str = Field(default="", max_length=80)
    version: int = Field(ge=1)
    extends: str | None = None
    turn_off: list[str] = Field(default_factory=list)
    help: dict[str, str] = Field(default_factory=dict)
    sections: list[dict] = Field(default_factory=list)


@dataclass(frozen=True)
class Template:
    name: str
    title: str
    version: int
    source: str  # shipped, directory, import
    checklist: Checklist

    @cached_property
    def digest(self) -> str:
        return checklist_digest(self.checklist)


def checklist_digest(checklist: Checklist) -> str:
    canonical = json.dumps(checklist.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def shipped_templates(default: Checklist) -> dict[str, Template]:
    """`default` as loaded; `genai` with its optional section counted from the start; `quick`
    with the blocking items only."""
    found = {DEFAULT: Template(DEFAULT, "Full readiness checklist", default.version, "shipped", default)}
    if any(s.optional for s in default.sections):
        genai = default.model_copy(
            update={"sections": [s.model_copy(update={"optional": False}) for s in default.sections]}
        )
        found["genai"] = Template(
            "genai", "Full checklist with the generative-AI section", default.version, "shipped", genai
        )
    quick_sections = [
        s.model_copy(update={"items": [i for i in s.items if i.blocking]})
        for s in default.sections
        if any(i.blocking for i in s.items)
    ]
    quick = default.model_copy(update={"sections": quick_sections})
    found["quick"] = Template("quick", "Blocking items only", default.version, "shipped", quick)
    return found


def build_template(
    raw: object,
    path: Path | str,
    bases: dict[str, Template],
    known_categories: dict[str, str],
    doc_ids: set[str],
    source: str,
) -> Template:
    """Validate a template file's data and resolve it against the templates it may extend."""
    try:
        spec = TemplateFile.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise KnowledgeError(path, ".".join(str(p) for p in err["loc"]) or None, err["msg"]) from None
    if spec.name in SHIPPED and source != "shipped":
        raise KnowledgeError(path, "name", f"'{spec.name}' is a shipped template; pick another name")
    try:
        added = Checklist.model_validate({"version": spec.version, "sections": spec.sections})
    except ValidationError as exc:
        err = exc.errors()[0]
        raise KnowledgeError(path, field_path({"sections": spec.sections}, err["loc"]), err["msg"]) from None
    if spec.extends is None:
        sections = [s.model_dump() for s in added.sections]
    else:
        base = bases.get(spec.extends)
        if base is None:
            raise KnowledgeError(
                path, "extends", f"unknown template '{spec.extends}'; known: {', '.join(sorted(bases))}"
            )
        sections = _extend(base, added, path)
    base_ids = {i["id"] for s in sections for i in s["items"]}
    for index, item_id in enumerate(spec.turn_off):
        if item_id not in base_ids:
            raise KnowledgeError(path, f"turn_off.{index}", f"unknown checklist item '{item_id}'")
    for item_id in spec.help:
        if item_id not in base_ids:
            raise KnowledgeError(path, f"help.{item_id}", f"unknown checklist item '{item_id}'")
    for section in sections:
        section["items"] = [
            {**item, "help": spec.help.get(item["id"], item["help"])}
            for item in section["items"]
            if item["id"] not in spec.turn_off
        ]
    sections = [s for s in sections if s["items"]]
    checklist = checklist_from_data(
        {"version": spec.version, "sections": sections}, path, known_categories, required=False
    )
    for item in checklist.items():
        for doc_id in item.docs:
            if doc_id not in doc_ids:
                raise KnowledgeError(path, f"{item.id}.docs", f"links to unknown guide '{doc_id}'")
    return Template(spec.name, spec.title or spec.name, spec.version, source, checklist)


def _extend(base: Template, added: Checklist, path: Path | str) -> list[dict]:
    sections = [s.model_dump() for s in base.checklist.sections]
    by_category = {s["category"]: s for s in sections}
    known_ids = {i.id for i in base.checklist.items()}
    for s_index, section in enumerate(added.sections):
        for i_index, item in enumerate(section.items):
            if item.id in known_ids:
                raise KnowledgeError(
                    path,
                    f"sections.{s_index}.items.{i_index}.id",
                    f"repeats the item id '{item.id}' of template '{base.name}'; "
                    "change its help text under `help:` or turn it off under `turn_off:`",
                )
            known_ids.add(item.id)
        if section.category in by_category:
            by_category[section.category]["items"] += [i.model_dump() for i in section.items]
        else:
            sections.append(section.model_dump())
    return sections


class TemplateCatalog:
    """Every template a workspace can pick, and each project's frozen checklist."""

    def __init__(
        self,
        default: Checklist,
        known_categories: dict[str, str],
        doc_ids: set[str],
        directories: list[Path] | None = None,
    ) -> None:
        self.default = default
        self.known_categories = known_categories
        self.doc_ids = doc_ids
        self.builtin = shipped_templates(default)
        for path in _template_files(directories or []):
            template = build_template(
                read_yaml(path), path, self.builtin, known_categories, doc_ids, "directory"
            )
            if template.name in self.builtin:
                raise KnowledgeError(path, "name", f"template '{template.name}' is defined twice")
            self.builtin[template.name] = template
        self._frozen: dict[int, tuple[str, Checklist]] = {}  # template row id -> name, checklist
        self._lock = threading.Lock()

    # what a workspace can pick
    def available(self, session: Session, team_id: str) -> dict[str, Template]:
        from sqlalchemy import select

        from bot.db.models import ChecklistTemplate

        found = dict(self.builtin)
        rows = session.scalars(
            select(ChecklistTemplate)
            .where(ChecklistTemplate.team_id == team_id, ChecklistTemplate.source == "import")
            .order_by(ChecklistTemplate.version, ChecklistTemplate.id)
        )
        for row in rows:  # the latest version of each name wins
            found[row.name] = Template(
                row.name, row.name, row.version, "import", Checklist.model_validate(row.checklist)
            )
        return found

    def resolve(self, session: Session, team_id: str, name: str) -> Template:
        available = self.available(session, team_id)
        template = available.get(name.strip().lower())
        if template is None:
            raise TemplateError(
                f"There is no checklist template `{escape_mrkdwn(name[:40])}`. "
                f"Templates: {', '.join(sorted(available))}."
            )
        return template

    # a project's own version
    def freeze(
        self, session: Session, team_id: str, template: Template, user_id: str = ""
    ) -> ChecklistTemplate:
        """The stored row for this exact template content, made once per workspace."""
        from sqlalchemy import select
        from sqlalchemy.exc import IntegrityError

        from bot.db.models import ChecklistTemplate, utcnow

        digest = template.digest
        query = select(ChecklistTemplate).where(
            ChecklistTemplate.team_id == team_id,
            ChecklistTemplate.name == template.name,
            ChecklistTemplate.digest == digest,
        )
        row = session.scalar(query)
        if row is not None:
            return row
        row = ChecklistTemplate(
            team_id=team_id,
            name=template.name,
            version=template.version,
            source=template.source,
            digest=digest,
            checklist=template.checklist.model_dump(mode="json"),
            created_by=user_id,
            created_at=utcnow(),
        )
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:  # made by a concurrent request a moment ago
            return session.scalars(query).one()
        return row

    def template_for(self, session: Session, project: Project) -> tuple[str, Checklist]:
        """The template name and the checklist version the project runs on, read once per
        version; projects made before templates existed follow the default as loaded."""
        if project.template_id is None:
            return DEFAULT, self.default
        with self._lock:
            cached = self._frozen.get(project.template_id)
        if cached is not None:
            return cached
        row = self.template_of(session, project)
        if row is None:
            log.error(
                "project %s names missing template %s; using the default", project.id, project.template_id
            )
            return DEFAULT, self.default
        frozen = (row.name, Checklist.model_validate(row.checklist))
        with self._lock:
            self._frozen[project.template_id] = frozen
        return frozen

    def checklist_for(self, session: Session, project: Project) -> Checklist:
        return self.template_for(session, project)[1]

    def template_of(self, session: Session, project: Project) -> ChecklistTemplate | None:
        from bot.db.models import ChecklistTemplate

        return session.get(ChecklistTemplate, project.template_id) if project.template_id else None

    def upgrade(self, session: Session, project: Project, user_id: str) -> Upgrade:
        """Move the project to the newest version of its template (owner only)."""
        if project.owner_id != user_id:
            raise TemplateError(f"Only the project owner <@{project.owner_id}> can upgrade its checklist.")
        current = self.template_of(session, project)
        name = current.name if current is not None else DEFAULT
        latest = self.resolve(session, project.team_id, name)
        before = self.checklist_for(session, project)
        row = self.freeze(session, project.team_id, latest, user_id)
        if row.id == project.template_id:
            return Upgrade(name, latest.version, [], [], changed=False)
        project.template_id = row.id
        before_ids = {i.id for i in before.items()}
        after_ids = {i.id for i in latest.checklist.items()}
        return Upgrade(
            name,
            latest.version,
            [i.id for i in latest.checklist.items() if i.id not in before_ids],
            [i.id for i in before.items() if i.id not in after_ids],
            changed=True,
        )

    # `mlready checklist import`
    def import_file(self, session: Session, team_id: str, path: Path, user_id: str = "") -> ImportResult:
        """Validate a template file and store it for one workspace; nothing is stored on error."""
        from sqlalchemy import select

        from bot.db.models import ChecklistTemplate

        raw = read_yaml(path)
        bases = self.available(session, team_id)
        template = build_template(raw, path, bases, self.known_categories, self.doc_ids, "import")
        if template.name in self.builtin:
            raise KnowledgeError(path, "name", f"'{template.name}' is a template of this installation")
        earlier = list(
            session.scalars(
                select(ChecklistTemplate).where(
                    ChecklistTemplate.team_id == team_id,
                    ChecklistTemplate.name == template.name,
                    ChecklistTemplate.source == "import",
                )
            )
        )
        same = next((r for r in earlier if r.digest == template.digest), None)
        if same is not None:
            return ImportResult(template, same, created=False)
        newest = max((r.version for r in earlier), default=0)
        if template.version <= newest:
            raise KnowledgeError(
                path,
                "version",
                f"version {newest} of '{template.name}' is already imported with other content; "
                f"set `version: {newest + 1}`",
            )
        return ImportResult(template, self.freeze(session, team_id, template, user_id), created=True)


@dataclass(frozen=True)
class Upgrade:
    name: str
    version: int
    added: list[str]
    retired: list[str]
    changed: bool


@dataclass(frozen=True)
class ImportResult:
    template: Template
    row: ChecklistTemplate
    created: bool


def _template_files(directories: list[Path]) -> list[Path]:
    files: list[Path] = []
    for directory in directories:
        if not directory.is_dir():
            raise KnowledgeError(directory, None, "checklist template folder not found")
        files += sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml"))
    return files
