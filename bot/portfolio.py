"""Every active project of a workspace side by side, and the failure causes most often open
across them (which guides to push). No Slack imports here."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import Project
from bot.readiness import ChecklistSource, ProjectState, project_state
from bot.text import markdown_cell
from indexer.knowledge import category_title


@dataclass(frozen=True)
class OpenCause:
    category: str
    title: str
    projects: int  # projects with at least one open blocking item in this category
    items: int  # open blocking items in this category, across projects
    guides: tuple[str, ...]  # guide ids linked from those items, most linked first


@dataclass(frozen=True)
class Portfolio:
    team_id: str
    states: list[ProjectState]
    causes: list[OpenCause]


def portfolio(session: Session, team_id: str, checklists: ChecklistSource) -> Portfolio:
    projects = session.scalars(
        select(Project)
        .where(Project.team_id == team_id, Project.archived_at.is_(None))
        .order_by(Project.created_at, Project.id)
    )
    states = [project_state(session, p, checklists) for p in projects]
    per_category: dict[str, set[int]] = {}
    items: Counter[str] = Counter()
    guides: dict[str, Counter[str]] = {}
    for state in states:
        for gap in state.readiness.gaps:
            category = gap.item.id.split(".")[0]
            per_category.setdefault(category, set()).add(state.project.id)
            items[category] += 1
            guides.setdefault(category, Counter()).update(gap.item.docs)
    causes = [
        OpenCause(
            category,
            category_title(category),
            len(project_ids),
            items[category],
            tuple(g for g, _ in guides[category].most_common(3)),
        )
        for category, project_ids in per_category.items()
    ]
    causes.sort(key=lambda c: (-c.projects, -c.items, c.category))
    return Portfolio(team_id, states, causes)


def kpi_state(state: ProjectState) -> str:
    return f"{len(state.kpis)} recorded" if state.kpis else "none"


def to_data(view: Portfolio) -> dict:
    return {
        "workspace": view.team_id,
        "projects": [
            {
                "id": s.project.id,
                "name": s.project.name,
                "channel": s.project.channel_id,
                "owner": s.project.owner_id,
                "template": s.template,
                "score": round(s.readiness.overall, 4),
                "band": s.band,
                "coverage": round(s.readiness.coverage, 4),
                "blocking_gaps": [g.item.id for g in s.readiness.gaps],
                "kpis": len(s.kpis),
                "signoff": s.signoff,
            }
            for s in view.states
        ],
        "open_causes": [
            {
                "category": c.category,
                "title": c.title,
                "projects": c.projects,
                "open_blocking_items": c.items,
                "guides": list(c.guides),
            }
            for c in view.causes
        ],
    }


def to_json(view: Portfolio) -> str:
    return json.dumps(to_data(view), indent=2, ensure_ascii=False) + "\n"


def to_markdown(view: Portfolio, doc_titles: dict[str, str]) -> str:
    lines = [
        f"# Readiness portfolio: workspace {view.team_id}",
        "",
        f"{len(view.states)} active project(s).",
        "",
        "| Project | Channel | Score | Band | Coverage | Blocking gaps | KPIs | Sign-off |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {markdown_cell(s.project.name)} | {s.project.channel_id} "
        f"| {s.readiness.overall:.0%} | {s.band} | {s.readiness.coverage:.0%} | {len(s.readiness.gaps)} "
        f"| {kpi_state(s)} | {s.signoff} |"
        for s in view.states
    ]
    lines += ["", "## Failure causes most often open", ""]
    lines += [
        f"- {c.title}: open in {c.projects} project(s), {c.items} blocking item(s). Guides to push: "
        + (", ".join(doc_titles.get(g, g) for g in c.guides) or "none linked")
        for c in view.causes
    ] or ["- none: every project's blocking items are answered"]
    return "\n".join(lines) + "\n"
