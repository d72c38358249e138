"""Block Kit for App Home: the user's projects, their scores and gaps, the workspace portfolio for
admins, and how to use mlready."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    Block,
    DividerBlock,
    HeaderBlock,
)
from slack_sdk.models.views import View

from bot.portfolio import Portfolio, kpi_state
from bot.readiness import ProjectState
from bot.slack.blocks import escape, fit, item_details, pct, sections
from bot.slack.signoff_blocks import SIGNOFF_LABELS


def home_view(
    help_text: str,
    user_id: str,
    states: list[ProjectState],
    overview: Portfolio | None = None,
    doc_titles: dict[str, str] | None = None,
) -> View:
    blocks: list[Block] = [HeaderBlock(text="mlready: is your ML project set up to succeed?")]
    if states:
        blocks += sections("*Your projects*")
        for s in states[:15]:
            gaps = ", ".join(g.item.id for g in s.readiness.gaps[:5]) or "none"
            text = (
                f"*{escape(s.project.name)}* in <#{s.project.channel_id}>: "
                f"*{pct(s.readiness.overall)}* ({s.band}), coverage {pct(s.readiness.coverage)}\n"
                f"Open blocking gaps: {gaps}"
            )
            mine = s.open_by_person().get(user_id, [])
            if mine:
                text += "\n👤 Assigned to you: " + "; ".join(
                    escape(i.question) + item_details(i.id, s, with_assignee=False).replace("\n", " ")
                    for i in mine[:3]
                )
            if s.evidence:
                text += f"\n📝 Notes or links on {len(s.evidence)} item(s); `/mlready status` lists them"
            blocks += sections(text)
        blocks.append(DividerBlock())
    else:
        blocks += sections(
            "You have no projects yet. In a project channel, run `/mlready project create <name>`."
        )
    if overview is not None:
        blocks += portfolio_blocks(overview, doc_titles or {})
    blocks += sections(help_text)
    return View(type="home", blocks=fit(blocks))


def portfolio_blocks(overview: Portfolio, doc_titles: dict[str, str]) -> list[Block]:
    """Every active project of the workspace, for admins: where each stands and what is most often open."""
    blocks: list[Block] = sections(
        f"*Workspace portfolio* ({len(overview.states)} active projects; admins see this)"
    )
    lines = [
        f"• *{escape(s.project.name)}* <#{s.project.channel_id}>: *{pct(s.readiness.overall)}* ({s.band}), "
        f"coverage {pct(s.readiness.coverage)}, {len(s.readiness.gaps)} blocking gap(s), "
        f"KPIs {kpi_state(s)}, sign-off {SIGNOFF_LABELS[s.signoff].lower()}"
        for s in overview.states[:20]
    ]
    if len(overview.states) > 20:
        lines.append(
            f"… and {len(overview.states) - 20} more: `mlready report --all --workspace {overview.team_id}`"
        )
    if lines:
        blocks += sections("\n".join(lines))
    causes = [
        f"• {escape(c.title)}: open in {c.projects} project(s). Push: "
        + (", ".join(f"_{escape(doc_titles.get(g, g))}_" for g in c.guides) or "no guide linked")
        for c in overview.causes[:5]
    ]
    if causes:
        blocks += sections("*Failure causes most often open*\n" + "\n".join(causes))
    blocks.append(DividerBlock())
    return blocks
