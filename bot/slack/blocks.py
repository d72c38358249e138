"""Block Kit builders. Each returns slack_sdk block models; Slack's limits are enforced here."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Protocol

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.answers import Answer, GuideLink, category_title
from bot.readiness import ProjectState
from bot.slack import ids
from bot.slack.action_values import GuideRef, KpiOpen
from bot.text import escape_mrkdwn as escape

MAX_BLOCKS = 50
SECTION_LIMIT = 3000
BUTTON_TEXT_LIMIT = 75
BUTTON_VALUE_LIMIT = 2000
_SECTION_BUDGET = SECTION_LIMIT - 100  # room for a continuation marker


def split_text(text: str, limit: int = _SECTION_BUDGET) -> list[str]:
    """Pieces of at most `limit` characters, split at line breaks, then spaces, then anywhere."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            cut = line.rfind(" ", 0, limit)
            cut = cut if cut > limit // 2 else limit
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:cut])
            line = line[cut:].lstrip()
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            pieces.append(current)
            current = line
        else:
            current = candidate
    if current:
        pieces.append(current)
    return [p for p in pieces if p.strip()] or [" "]


class KpiFigures(Protocol):
    metric: str
    baseline: float
    target: float
    unit: str


def kpi_text(kpi: KpiFigures) -> str:
    """A KPI as every message shows it: *metric*: baseline → target unit (user text escaped)."""
    return f"*{escape(kpi.metric)}*: {kpi.baseline:g} → {kpi.target:g} {escape(kpi.unit)}".rstrip()


def slack_date(moment: datetime) -> str:
    """A date Slack shows in each reader's timezone."""
    ts = int(moment.timestamp())
    return f"<!date^{ts}^{{date_short_pretty}} {{time}}|{moment:%Y-%m-%d %H:%M} UTC>"


def day_text(day: date) -> str:
    """A calendar date (a due date), the same for every reader."""
    ts = int(datetime.combine(day, datetime.min.time(), tzinfo=UTC).timestamp()) + 12 * 3600
    return f"<!date^{ts}^{{date_short}}|{day:%Y-%m-%d}>"


def link(url: str, label: str) -> str:
    """A link to a URL the evidence check accepted (http/https, no < > | or spaces)."""
    return f"<{url.replace('&', '&amp;')}|{escape(label)}>"


def item_details(item_id: str, state: ProjectState, with_assignee: bool = True) -> str:
    """The item's evidence and assignee, as lines to add under it (empty when it has neither)."""
    text = ""
    evidence = state.evidence.get(item_id)
    if evidence is not None:
        note = f"📝 {escape(evidence.note)}" if evidence.note else "📎"
        text += f"\n{note}" + (f" ({link(evidence.url, 'link')})" if evidence.url else "")
    assignment = state.assignments.get(item_id) if with_assignee else None
    if assignment is not None:
        text += f"\n👤 Assigned to <@{assignment.assignee_id}>"
        if assignment.due_on is not None:
            text += f", due {day_text(assignment.due_on)}"
    return text


def pct(value: float) -> str:
    return f"{value:.0%}"


def bar(value: float, width: int = 10) -> str:
    """A progress bar in text, e.g. ▰▰▰▱▱▱▱▱▱▱ for 30%."""
    filled = round(max(0.0, min(1.0, value)) * width)
    return "▰" * filled + "▱" * (width - filled)


def sections(text: str) -> list[Block]:
    return [SectionBlock(text=MarkdownTextObject(text=piece)) for piece in split_text(text)]


def button(text: str, action_id: str, value: str, style: str | None = None) -> ButtonElement:
    label = text if len(text) <= BUTTON_TEXT_LIMIT else text[: BUTTON_TEXT_LIMIT - 1] + "…"
    return ButtonElement(text=label, action_id=action_id, value=value[:BUTTON_VALUE_LIMIT], style=style)


def fit(blocks: list[Block]) -> list[Block]:
    """At most 50 blocks: keep the first ones and the trailing actions, say what was cut."""
    if len(blocks) <= MAX_BLOCKS:
        return blocks
    tail = [b for b in blocks[-1:] if isinstance(b, ActionsBlock)]
    note = ContextBlock(
        elements=[MarkdownTextObject(text="_This answer was shortened to fit in one Slack message._")]
    )
    return [*blocks[: MAX_BLOCKS - 1 - len(tail)], note, *tail]


def _sources_text(answer: Answer) -> str:
    lines = ["*Sources*"]
    lines += [
        f"[{i}] {escape(s.title)} — {escape(s.section)} _({category_title(s.category)})_"
        for i, s in enumerate(answer.sources, 1)
    ]
    return "\n".join(lines)


def answer_blocks(
    answer: Answer,
    answer_id: int,
    *,
    shareable: bool = False,
    shared_by: str | None = None,
    project_note: str | None = None,
    kpi_project: int | None = None,
) -> list[Block]:
    """A cited answer with feedback buttons (and a share button when only the asker sees it)."""
    if not answer.answered:
        return declined_blocks(answer)
    blocks: list[Block] = []
    if shared_by:
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=f"<@{shared_by}> shared an answer to: _{escape(answer.question[:200])}_"
                    )
                ]
            )
        )
    if answer.summary:
        blocks += sections(
            "_Summary (generated, checked against the quoted lines below)_\n" + escape(answer.summary)
        )
    blocks += sections(escape(answer.answer))
    blocks += sections(_sources_text(answer))
    if project_note:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text="📌 " + escape(project_note)[:2900])]))
    guide_buttons = guide_actions(answer)
    if guide_buttons:
        blocks.append(guide_buttons)
    value = str(answer_id)
    buttons = [
        button("👍 Helpful", ids.FEEDBACK_HELPFUL, value),
        button("👎 Not helpful", ids.FEEDBACK_NOT_HELPFUL, value),
    ]
    if shareable:
        buttons.append(button("Share in channel", ids.SHARE_ANSWER, value, style="primary"))
    if kpi_project is not None:
        buttons.append(button("Define KPI", ids.KPI_OPEN, KpiOpen(project=kpi_project).value()))
    blocks.append(ActionsBlock(elements=buttons))
    return fit(blocks)


def _related_buttons(related: list[GuideLink]) -> list[ButtonElement]:
    return [
        button(f"Related: {link.title}", f"{ids.GUIDE_READ}_related_{n}", GuideRef(doc=link.doc_id).value())
        for n, link in enumerate(related[:2], 1)
    ]


def guide_actions(answer: Answer) -> ActionsBlock | None:
    """Read the guide, its example and team questions, and up to two related guides."""
    buttons: list[ButtonElement] = []
    if answer.guide:
        ref = GuideRef(doc=answer.guide).value()
        buttons += [
            button("📖 Read the guide", ids.GUIDE_READ, ref),
            button("Example", ids.GUIDE_EXAMPLE, ref),
            button("Questions for your team", ids.GUIDE_QUESTIONS, ref),
        ]
    buttons += _related_buttons(answer.related)
    return ActionsBlock(elements=buttons) if buttons else None


def declined_blocks(answer: Answer) -> list[Block]:
    if answer.near_domain:
        text = (
            "My guides do not cover that in depth. I help with getting ML projects ready: "
            "objectives and KPIs, stakeholders, data, team, infrastructure, integration, "
            "monitoring and responsible AI."
        )
        blocks: list[Block] = sections(text)
        topics = "\n".join(f"• {escape(t)}" for t in answer.closest_topics)
        blocks += sections(f"*Nearest guides (not covering your question in depth):*\n{topics}")
        if answer.related:
            blocks.append(ActionsBlock(elements=_related_buttons(answer.related)))
        return blocks
    text = (
        "Sorry, that is outside what I know. I help with getting ML projects ready: "
        "objectives and KPIs, stakeholders, data, team, infrastructure, integration, "
        "monitoring and responsible AI."
    )
    blocks = sections(text)
    if answer.closest_topics:
        topics = "\n".join(f"• {escape(t)}" for t in answer.closest_topics)
        blocks += sections(f"*Closest topics I know:*\n{topics}")
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(text="Tip: run `/mlready checklist` to see where your project stands.")
            ]
        )
    )
    return blocks


def help_blocks(text: str, unknown: str | None = None) -> list[Block]:
    blocks: list[Block] = []
    if unknown:
        blocks += sections(f"I don't know the subcommand `{escape(unknown)}`. Here is what I can do:")
    return blocks + sections(text)


def fallback_text(answer: Answer) -> str:
    """The plain-text version Slack shows in notifications (escaped: Slack parses it too)."""
    return escape(answer.answer if answer.answered else "I can't answer that one.")[:SECTION_LIMIT]


def to_dicts(blocks: list[Block]) -> list[dict]:
    return [b.to_dict() for b in blocks]
