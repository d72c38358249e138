"""Block Kit for the checklist screen: the checklist message, "Why it matters", the KPI modal,
and the reply in a channel without a project."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ContextBlock,
    DatePickerElement,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    SectionBlock,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.checklist import ChecklistItem, ResponseValue
from bot.db.models import ItemAssignment, ItemEvidence, Project
from bot.evidence import MAX_NOTE
from bot.readiness import ProjectState
from bot.slack import action_values as av
from bot.slack import ids
from bot.slack.blocks import button, day_text, escape, fit, item_details, kpi_text, pct, sections, slack_date
from bot.slack.signoff_blocks import SIGNOFF_LABELS
from indexer.chunking import split_sections
from indexer.knowledge import KnowledgeDoc


def _item_line(item: ChecklistItem, state: ProjectState) -> str:
    badge = "🚧 " if item.blocking else ""
    text = f"{badge}*{escape(item.question)}*\n_{escape(item.help)}_"
    response = state.responses.get(item.id)
    if item.kind == "kpi":
        if state.kpis:
            k = state.kpis[-1]
            text += f"\n✅ KPI: {kpi_text(k)} (owner <@{k.owner_id}>)"
        else:
            text += "\n⚠️ No KPI recorded yet."
    elif item.kind == "signoff":
        text += f"\nSign-off: *{SIGNOFF_LABELS[state.signoff]}*"
        if state.latest_signoff is not None:
            text += f" (<@{state.latest_signoff.stakeholder_id}>)"
    elif response is not None:
        text += (
            f"\nAnswer: *{item.labels[ResponseValue(response.value)]}* by <@{response.responded_by}>"
            f", {slack_date(response.responded_at)}"
        )
    else:
        text += "\nNot answered yet."
    return text + item_details(item.id, state)


def _item_actions(item: ChecklistItem, project: Project, state: ProjectState) -> ActionsBlock:
    current = state.responses.get(item.id)
    elements = []
    if item.kind == "yesno":
        for value, label in item.labels.items():
            chosen = current is not None and current.value == value.value
            elements.append(
                button(
                    label,
                    f"{ids.CHECKLIST_RESPONSE}_{value.value}",
                    av.ChecklistResponse(project=project.id, item=item.id, response=value.value).value(),
                    style="primary" if chosen else None,
                )
            )
    elif item.kind == "kpi":
        elements.append(
            button(
                "Define KPI" if not state.kpis else "Add another KPI",
                ids.KPI_OPEN,
                av.KpiOpen(project=project.id, from_checklist=True).value(),
                style="primary",
            )
        )
    ref = av.ChecklistItemRef(project=project.id, item=item.id).value()
    has_evidence = item.id in state.evidence
    elements += [
        button("Edit note / link" if has_evidence else "Add note / link", ids.EVIDENCE_OPEN, ref),
        button("Reassign" if item.id in state.assignments else "Assign", ids.ASSIGN_OPEN, ref),
        button("Why it matters", ids.CHECKLIST_WHY, ref),
    ]
    return ActionsBlock(block_id=item.id, elements=elements)


def checklist_blocks(project: Project, state: ProjectState, category: str) -> list[Block]:
    """One section of the checklist at a time, with buttons to move between sections."""
    checklist = state.checklist
    section = checklist.section(category) or checklist.sections[0]
    r = state.readiness
    scores = {s.category: s for s in r.sections}

    def shown_score(category: str) -> str:
        """An optional section nobody has answered yet is not scored."""
        return pct(scores[category].score) if category in scores else "optional"

    blocks: list[Block] = [
        HeaderBlock(text=f"Readiness checklist: {project.name}"[:150]),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"{r.answered}/{r.total} answered · coverage {pct(r.coverage)} · "
                    f"score *{pct(r.overall)}* (weakest: {r.weakest}) · {state.band} · "
                    f"{len(r.gaps)} blocking gap(s)"
                )
            ]
        ),
        ActionsBlock(
            block_id="checklist_nav",
            elements=[
                button(
                    f"{s.title} {shown_score(s.category)}",
                    f"{ids.CHECKLIST_PAGE}_{s.category}",
                    av.ChecklistPage(project=project.id, category=s.category).value(),
                    style="primary" if s.category == section.category else None,
                )
                for s in checklist.sections
            ][:25],
        ),
        DividerBlock(),
        SectionBlock(
            text=MarkdownTextObject(text=f"*{escape(section.title)}*: {shown_score(section.category)}")
        ),
    ]
    if section.optional and section.category not in scores:
        blocks += sections(
            "_This section is optional: it counts towards the score once anyone answers one of its "
            "items. Answer N/A if it does not apply to your project._"
        )
    for item in section.items:
        blocks += sections(_item_line(item, state))
        blocks.append(_item_actions(item, project, state))
    return fit(blocks)


def no_project_blocks() -> list[Block]:
    return sections(
        "This channel has no ML project yet. Create one with "
        "`/mlready project create <name>`, then run `/mlready checklist`."
    )


def kpi_modal(project: Project, channel_id: str, message_ts: str) -> View:
    def text_input(block_id: str, label: str, placeholder: str, optional: bool = False) -> InputBlock:
        return InputBlock(
            block_id=block_id,
            label=label,
            optional=optional,
            element=PlainTextInputElement(action_id="value", placeholder=placeholder),
        )

    return View(
        type="modal",
        callback_id=ids.KPI_MODAL,
        title="Define a KPI",
        submit="Save",
        close="Cancel",
        private_metadata=av.KpiModal(
            project=project.id, channel=channel_id or None, ts=message_ts or None
        ).value(),
        blocks=[
            text_input("metric", "Metric", "e.g. monthly churn rate"),
            text_input("baseline", "Baseline (today)", "e.g. 4.2"),
            text_input("target", "Target", "e.g. 3.5"),
            text_input("unit", "Unit", "e.g. %", optional=True),
            InputBlock(
                block_id="deadline",
                label="Deadline",
                optional=True,
                element=DatePickerElement(action_id="value"),
            ),
            InputBlock(
                block_id="owner", label="Owner", optional=True, element=UserSelectElement(action_id="value")
            ),
        ],
    )


def evidence_modal(
    project: Project, item: ChecklistItem, evidence: ItemEvidence | None, channel_id: str, message_ts: str
) -> View:
    note = PlainTextInputElement(
        action_id="value",
        multiline=True,
        max_length=MAX_NOTE,
        initial_value=evidence.note if evidence and evidence.note else None,
    )
    url = PlainTextInputElement(
        action_id="value",
        placeholder="https://",
        initial_value=evidence.url if evidence and evidence.url else None,
    )
    return _item_modal(
        ids.EVIDENCE_MODAL,
        "Note and link",
        project,
        item,
        channel_id,
        message_ts,
        [
            InputBlock(
                block_id="note",
                label="Note",
                optional=True,
                hint="What backs the answer up, e.g. where it was decided. Up to 1,000 characters.",
                element=note,
            ),
            InputBlock(
                block_id="url",
                label="Link",
                optional=True,
                hint="A web link (https://…) to the document or ticket. Leave both empty to remove.",
                element=url,
            ),
        ],
    )


def assign_modal(
    project: Project, item: ChecklistItem, assignment: ItemAssignment | None, channel_id: str, message_ts: str
) -> View:
    due = assignment.due_on.isoformat() if assignment and assignment.due_on else None
    return _item_modal(
        ids.ASSIGN_MODAL,
        "Assign the item",
        project,
        item,
        channel_id,
        message_ts,
        [
            InputBlock(
                block_id="assignee",
                label="Who closes it",
                optional=True,
                hint="They get a direct message once. Leave empty to unassign.",
                element=UserSelectElement(
                    action_id="value", initial_user=assignment.assignee_id if assignment else None
                ),
            ),
            InputBlock(
                block_id="due",
                label="Due date",
                optional=True,
                element=DatePickerElement(action_id="value", initial_date=due),
            ),
        ],
    )


def _item_modal(
    callback_id: str,
    title: str,
    project: Project,
    item: ChecklistItem,
    channel_id: str,
    message_ts: str,
    inputs: list[Block],
) -> View:
    """A modal about one checklist item: its question, then the inputs; the metadata names the
    item and the checklist message to re-render after saving."""
    return View(
        type="modal",
        callback_id=callback_id,
        title=title,
        submit="Save",
        close="Cancel",
        private_metadata=av.ItemModal(
            project=project.id, item=item.id, channel=channel_id or None, ts=message_ts or None
        ).value(),
        blocks=[SectionBlock(text=MarkdownTextObject(text=f"*{escape(item.question)}*")), *inputs],
    )


def assigned_dm_text(project: Project, item: ChecklistItem, assignment: ItemAssignment) -> str:
    due = f" by {day_text(assignment.due_on)}" if assignment.due_on else ""
    return (
        f"👤 <@{assignment.assigned_by}> assigned you a readiness item of *{escape(project.name)}* "
        f"(<#{project.channel_id}>){due}:\n*{escape(item.question)}*\n_{escape(item.help)}_\n"
        "Answer it in the project's checklist with `/mlready checklist` in that channel."
    )


def guidance_blocks(item: ChecklistItem, docs: list[KnowledgeDoc]) -> list[Block]:
    """The linked guidance: each document's introduction and its first steps."""
    blocks: list[Block] = sections(f"*Why it matters:* {escape(item.question)}\n_{escape(item.help)}_")
    for doc in docs[:2]:
        parts = {s.heading: s.units for s in split_sections(doc.body)}
        intro = " ".join(next(iter(parts.values()), ())[:2])
        steps = "\n".join(f"• {escape(u)}" for u in parts.get("What to do", ())[:3])
        blocks += sections(
            f"*{escape(doc.meta.title)}*\n{escape(intro)}" + (f"\n*What to do*\n{steps}" if steps else "")
        )
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(text="Ask me more, e.g. `/mlready ask " + escape(item.question[:80]) + "`")
            ]
        )
    )
    return fit(blocks)
