"""Block Kit for App Home: the user's projects, their scores and gaps, and how to use mlready."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    Block,
    DividerBlock,
    HeaderBlock,
)
from slack_sdk.models.views import View

from bot.readiness import ProjectState
from bot.slack.blocks import escape, fit, pct, sections


def home_view(help_text: str, states: list[ProjectState]) -> View:
    blocks: list[Block] = [HeaderBlock(text="mlready: is your ML project set up to succeed?")]
    if states:
        blocks += sections("*Your projects*")
        for s in states[:15]:
            gaps = ", ".join(g.item.id for g in s.readiness.gaps[:5]) or "none"
            blocks += sections(
                f"*{escape(s.project.name)}* in <#{s.project.channel_id}>: "
                f"*{pct(s.readiness.overall)}* ({s.band}), coverage {pct(s.readiness.coverage)}\n"
                f"Open blocking gaps: {gaps}"
            )
        blocks.append(DividerBlock())
    else:
        blocks += sections(
            "You have no projects yet. In a project channel, run `/mlready project create <name>`."
        )
    blocks += sections(help_text)
    return View(type="home", blocks=fit(blocks))
