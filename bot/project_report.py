"""A project's checklist responses, evidence, assignees, history, KPIs and sign-offs as Markdown,
CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.checklist import Checklist, ResponseValue
from bot.db.models import Project, ResponseHistory
from bot.evidence import changes_of
from bot.readiness import ChecklistSource, ProjectState, project_state, signoffs_of
from bot.text import markdown_cell


def value_label(checklist: Checklist, item_id: str, value: str) -> str:
    """How the item's own scale names a stored value (Automated / By hand for technical items)."""
    item = checklist.item(item_id)
    try:
        return item.labels[ResponseValue(value)] if item else value
    except ValueError:
        return value or "—"


def _iso(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment else ""


def report_data(session: Session, state: ProjectState) -> dict:
    project, checklist = state.project, state.checklist
    history = session.scalars(
        select(ResponseHistory).where(ResponseHistory.project_id == project.id).order_by(ResponseHistory.id)
    )
    return {
        "project": {
            "id": project.id,
            "name": project.name,
            "workspace": project.team_id,
            "channel": project.channel_id,
            "owner": project.owner_id,
            "created_at": _iso(project.created_at),
            "archived_at": _iso(project.archived_at),
            "template": state.template,
            "template_version": checklist.version,
        },
        "score": {
            "overall": round(state.readiness.overall, 4),
            "coverage": round(state.readiness.coverage, 4),
            "band": state.band,
            "weakest": state.readiness.weakest,
            "sections": {s.category: round(s.score, 4) for s in state.readiness.sections},
        },
        "gaps": [g.item.id for g in state.readiness.gaps],
        "answers": [
            {
                "item": item.id,
                "question": item.question,
                "value": state.values[item.id].value if item.id in state.values else "",
                "answered_by": state.responses[item.id].responded_by if item.id in state.responses else "",
                "answered_at": _iso(state.responses[item.id].responded_at)
                if item.id in state.responses
                else "",
                **_details(state, item.id),
            }
            for item in checklist.items()
        ],
        "changes": [
            {"item": c.item_id, "kind": c.kind, **c.detail, "by": c.changed_by, "at": _iso(c.changed_at)}
            for c in changes_of(session, project)
        ],
        "history": [
            {
                "item": h.item_id,
                "value": h.value,
                "note": h.note,
                "by": h.responded_by,
                "at": _iso(h.responded_at),
            }
            for h in history
        ],
        "kpis": [
            {
                "metric": k.metric,
                "baseline": k.baseline,
                "target": k.target,
                "unit": k.unit,
                "deadline": k.deadline.date().isoformat() if k.deadline else "",
                "owner": k.owner_id,
            }
            for k in state.kpis
        ],
        "signoffs": [
            {
                "stakeholder": s.stakeholder_id,
                "requested_by": s.requested_by,
                "what": s.what,
                "status": s.status,
                "comment": s.comment,
                "requested_at": _iso(s.requested_at),
                "decided_at": _iso(s.decided_at),
            }
            for s in signoffs_of(session, project)
        ],
        "signoff_state": state.signoff,
    }


def _details(state: ProjectState, item_id: str) -> dict:
    evidence = state.evidence.get(item_id)
    assignment = state.assignments.get(item_id)
    return {
        "note": evidence.note if evidence else "",
        "url": evidence.url if evidence else "",
        "assignee": assignment.assignee_id if assignment else "",
        "due": assignment.due_on.isoformat() if assignment and assignment.due_on else "",
    }


def to_json(data: dict) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def to_csv(data: dict) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["record", "item_or_metric", "value", "by", "at", "detail"])
    for a in data["answers"]:
        writer.writerow(["answer", a["item"], a["value"], a["answered_by"], a["answered_at"], a["question"]])
        if a["note"] or a["url"]:
            writer.writerow(["evidence", a["item"], a["url"], "", "", a["note"]])
        if a["assignee"]:
            writer.writerow(["assignment", a["item"], a["due"], a["assignee"], "", ""])
    for c in data["changes"]:
        value = c.get("url", "") if c["kind"] == "evidence" else c.get("due") or ""
        detail = c.get("note", "") if c["kind"] == "evidence" else c.get("assignee", "")
        writer.writerow([f"{c['kind']}-change", c["item"], value, c["by"], c["at"], detail])
    for h in data["history"]:
        writer.writerow(["history", h["item"], h["value"], h["by"], h["at"], h["note"]])
    for k in data["kpis"]:
        writer.writerow(
            [
                "kpi",
                k["metric"],
                f"{k['baseline']} -> {k['target']} {k['unit']}".strip(),
                k["owner"],
                k["deadline"],
                "",
            ]
        )
    for s in data["signoffs"]:
        writer.writerow(
            [
                "signoff",
                s["stakeholder"],
                s["status"],
                s["requested_by"],
                s["decided_at"] or s["requested_at"],
                s["comment"],
            ]
        )
    return out.getvalue()


def _evidence_cell(record: dict) -> str:
    return markdown_cell(" ".join(filter(None, (record.get("note", ""), record.get("url", "")))))


def to_markdown(data: dict, checklist: Checklist) -> str:
    p, sc = data["project"], data["score"]
    lines = [
        f"# Readiness report: {p['name']}",
        "",
        f"- Workspace {p['workspace']}, channel {p['channel']}, owner {p['owner']}",
        f"- Checklist template {p['template']}, version {p['template_version']}",
        f"- Overall score {sc['overall']:.0%} (weakest section: {sc['weakest']}): {sc['band']}",
        f"- Sign-off: {data['signoff_state']}",
        "",
        "## Sections",
        "",
        "| Section | Score |",
        "|---|---|",
    ]
    lines += [f"| {cat} | {value:.0%} |" for cat, value in sc["sections"].items()]
    lines += ["", "## Blocking gaps", ""]
    lines += [
        f"- {gap}: {checklist.item(gap).question}"
        for gap in data["gaps"]  # type: ignore[union-attr]
    ] or ["- none"]
    lines += [
        "",
        "## Answers",
        "",
        "| Item | Answer | By | At | Evidence | Assignee | Due |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {a['item']} | {value_label(checklist, a['item'], a['value'])} | {a['answered_by']} "
        f"| {a['answered_at']} | {_evidence_cell(a)} "
        f"| {a['assignee']} | {a['due']} |"
        for a in data["answers"]
    ]
    lines += ["", "## KPIs", ""]
    lines += [
        f"- {k['metric']}: {k['baseline']} → {k['target']} {k['unit']}".rstrip()
        + (f", by {k['deadline']}" if k["deadline"] else "")
        + f" (owner {k['owner']})"
        for k in data["kpis"]
    ] or ["- none recorded"]
    lines += ["", "## Sign-offs", ""]
    lines += [
        f"- {s['stakeholder']}: {s['status']} ({s['what']})" + (f": {s['comment']}" if s["comment"] else "")
        for s in data["signoffs"]
    ] or ["- none requested"]
    lines += ["", "## History", "", "| At | Item | Change | By |", "|---|---|---|---|"]
    rows = [
        (h["at"], h["item"], f"answer {value_label(checklist, h['item'], h['value'])}", h["by"])
        for h in data["history"]
    ]
    rows += [
        (
            c["at"],
            c["item"],
            f"evidence: {_evidence_cell(c) or 'removed'}"
            if c["kind"] == "evidence"
            else f"assigned to {c.get('assignee') or 'nobody'}"
            + (f", due {c['due']}" if c.get("due") else ""),
            c["by"],
        )
        for c in data["changes"]
    ]
    lines += [f"| {at} | {item} | {change} | {by} |" for at, item, change, by in sorted(rows)]
    return "\n".join(lines) + "\n"


def render(session: Session, project: Project, checklists: Checklist | ChecklistSource, fmt: str) -> str:
    state = project_state(session, project, checklists)
    data = report_data(session, state)
    if fmt == "json":
        return to_json(data)
    if fmt == "csv":
        return to_csv(data)
    return to_markdown(data, state.checklist)


__all__ = ["ProjectState", "render", "report_data"]
