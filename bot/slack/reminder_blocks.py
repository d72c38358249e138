"""Block Kit for reminders: the reminder message, the settings reply, the sign-off request modal."""

from __future__ import annotations

from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.checklist import Checklist
from bot.reminders.delivery import Reminder
from bot.reminders.rules import ASSIGNED_OVERDUE, BLOCKING_GAPS, KPI_MISSING, SIGNOFF_MISSING, Finding
from bot.reminders.schedule import EXAMPLES, Schedule
from bot.slack import action_values as av
from bot.slack import ids
from bot.slack.blocks import button, escape, fit, sections, slack_date

RULE_TITLES = {
    KPI_MISSING: "KPI missing",
    SIGNOFF_MISSING: "Stakeholder sign-off missing",
    BLOCKING_GAPS: "Blocking checklist items still open",
    ASSIGNED_OVERDUE: "Assigned items past their due date",
}


def _who(finding: Finding) -> str:
    if not finding.fixers:
        return "anyone in this channel, with `/mlready checklist`"
    return ", ".join(f"<@{u}>" for u in finding.fixers)


def _guidance(finding: Finding, checklist: Checklist, doc_titles: dict[str, str]) -> str:
    titles: list[str] = []
    for item_id in finding.item_ids:
        item = checklist.item(item_id)
        for doc_id in item.docs if item else []:
            if doc_id in doc_titles and doc_titles[doc_id] not in titles:
                titles.append(doc_titles[doc_id])
    return "; ".join(f"_{escape(t)}_" for t in titles[:3])


def finding_text(finding: Finding, checklist: Checklist, doc_titles: dict[str, str]) -> str:
    lines = [f"*{RULE_TITLES[finding.rule]}.* {escape(finding.summary)}"]
    lines += [f"• {escape(q)}" for q in finding.open_items[:5]]
    if len(finding.open_items) > 5:
        lines.append(f"• … and {len(finding.open_items) - 5} more")
    lines.append(f"*Why it matters:* {escape(finding.why)}")
    guidance = _guidance(finding, checklist, doc_titles)
    if guidance:
        lines.append(f"*Guidance:* {guidance} (ask me about it with `/mlready ask`)")
    lines.append(f"*Who can fix it:* {_who(finding)}")
    return "\n".join(lines)


def reminder_blocks(
    reminder: Reminder, checklist: Checklist, doc_titles: dict[str, str], schedule: Schedule
) -> list[Block]:
    p = reminder.project_id
    findings = list(reminder.findings)
    if reminder.destination.startswith("owner:"):
        intro = f"⏰ You own the ML project *{escape(reminder.project_name)}* in <#{reminder.channel_id}>."
    elif reminder.destination.startswith("assignee:"):
        findings = [f.for_assignee(reminder.target) for f in findings]
        intro = (
            f"⏰ Items of *{escape(reminder.project_name)}* (<#{reminder.channel_id}>) assigned to you are "
            "past their due date. Answer them with `/mlready checklist` in that channel."
        )
    else:
        intro = f"⏰ *Reminder for {escape(reminder.project_name)}*: what still blocks this project."
    blocks: list[Block] = sections(intro)
    for finding in findings:
        blocks += sections(finding_text(finding, checklist, doc_titles))
    rules = set(reminder.rules)
    buttons = []
    if KPI_MISSING in rules:
        buttons.append(button("Define KPI", ids.KPI_OPEN, av.KpiOpen(project=p).value(), style="primary"))
    pending = any(f.rule == SIGNOFF_MISSING and f.stakeholder for f in reminder.findings)
    if SIGNOFF_MISSING in rules and not pending:
        buttons.append(
            button("Request sign-off", ids.REMINDER_SIGNOFF_OPEN, av.ProjectRef(project=p).value())
        )
    first_item = next((i for f in reminder.findings for i in f.item_ids), None)
    if first_item:
        buttons.append(
            button(
                "Why it matters", ids.CHECKLIST_WHY, av.ChecklistItemRef(project=p, item=first_item).value()
            )
        )
    buttons.append(button("Snooze 3 days", ids.REMINDER_SNOOZE, av.Snooze(project=p, days=3).value()))
    blocks.append(ActionsBlock(block_id="reminder_actions", elements=buttons))
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"Reminders {schedule.describe()}; change them with `/mlready remind` in "
                    f"<#{reminder.channel_id}>. They stop by themselves once the gaps are closed."
                )
            ]
        )
    )
    return fit(blocks)


def reminder_text(reminder: Reminder) -> str:
    titles = ", ".join(RULE_TITLES[r] for r in reminder.rules)
    return f"Reminder for {escape(reminder.project_name)}: {titles}"


def stakeholder_nudge(requested_by: str, project_name: str) -> str:
    return (
        f"⏰ Reminder: <@{requested_by}> is waiting for your sign-off on *{escape(project_name)}*. "
        "Approve or request changes below."
    )


def settings_blocks(
    project_name: str,
    schedule: Schedule,
    next_at: datetime | None,
    open_rules: list[Finding],
    last_sent: datetime | None,
    note: str = "",
) -> list[Block]:
    source = {
        "set": "set with `/mlready remind timezone`",
        "owner": "the project owner's Slack timezone",
        "default": "the owner's timezone is not known yet",
    }[schedule.timezone_source]
    lines = [note] if note else []
    lines.append(f"*Reminders for {escape(project_name)}*: {schedule.describe()}, timezone from {source}.")
    if schedule.cadence != "off" and next_at is not None:
        lines.append(f"Next reminder: {slack_date(next_at)}.")
    if schedule.snoozed_until is not None:
        lines.append(f"Snoozed until {slack_date(schedule.snoozed_until)}.")
    if open_rules:
        lines.append("Open now: " + "; ".join(RULE_TITLES[f.rule] for f in open_rules) + ".")
    else:
        lines.append("Nothing to remind about: a KPI, the sign-off and the blocking items are in place.")
    if last_sent is not None:
        lines.append(f"Last reminder sent: {slack_date(last_sent)}.")
    blocks = sections("\n".join(lines))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"Change them: {EXAMPLES}")]))
    return fit(blocks)


def signoff_request_modal(project_id: int, project_name: str) -> View:
    return View(
        type="modal",
        callback_id=ids.REMINDER_SIGNOFF_MODAL,
        title="Request sign-off",
        submit="Send request",
        close="Cancel",
        private_metadata=av.ProjectRef(project=project_id).value(),
        blocks=[
            InputBlock(
                block_id="stakeholder",
                label="Stakeholder",
                element=UserSelectElement(action_id="value"),
            ),
            InputBlock(
                block_id="what",
                label="What should they sign off?",
                optional=True,
                element=PlainTextInputElement(
                    action_id="value", placeholder=f"objectives and KPIs of {project_name}"[:150]
                ),
            ),
        ],
    )
