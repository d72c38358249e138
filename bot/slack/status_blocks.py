"""Block Kit for `/mlready status` and `/mlready project`: scores, gaps, KPIs and sign-off."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    Block,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.checklist import ResponseValue
from bot.readiness import ProjectState
from bot.slack.blocks import bar, escape, fit, kpi_text, pct, sections, slack_date
from bot.slack.signoff_blocks import SIGNOFF_LABELS


def status_blocks(state: ProjectState, doc_titles: dict[str, str]) -> list[Block]:
    project, r = state.project, state.readiness
    blocks: list[Block] = [
        HeaderBlock(text=f"Readiness: {project.name}"[:150]),
        SectionBlock(
            text=MarkdownTextObject(
                text=f"Readiness *{pct(r.overall)}* (the weakest section, {r.weakest}): *{state.band}*\n"
                f"Coverage {bar(r.coverage)} *{pct(r.coverage)}* "
                f"({r.answered - r.not_applicable} of {r.total - r.not_applicable} applicable items answered)"
                f" · owner <@{project.owner_id}>"
            )
        ),
    ]
    if r.gaps:
        lines = ["*Blocking gaps*"]
        for gap in r.gaps:
            guidance = ", ".join(doc_titles.get(d, d) for d in gap.item.docs[:2])
            state_text = "answered No" if gap.response == ResponseValue.no else "unanswered"
            lines.append(f"🚧 {escape(gap.item.question)} ({state_text}). Guidance: _{escape(guidance)}_")
        blocks += sections("\n".join(lines))
    else:
        blocks += sections("✅ No blocking gaps.")
    blocks += sections(
        "*Sections*\n"
        + "\n".join(f"{bar(s.score)} {s.title}: {pct(s.score)} ({s.answered}/{s.total})" for s in r.sections)
    )
    kpi_lines = [
        f"• {kpi_text(k)}" + (f", by {k.deadline:%Y-%m-%d}" if k.deadline else "") + f" (<@{k.owner_id}>)"
        for k in state.kpis
    ] or ["• none recorded: use `/mlready checklist kpis`"]
    blocks += sections("*KPIs*\n" + "\n".join(kpi_lines))
    signoff = SIGNOFF_LABELS[state.signoff]
    if state.latest_signoff is not None:
        signoff += f" (<@{state.latest_signoff.stakeholder_id}>)"
    blocks += sections(f"*Stakeholder sign-off*: {signoff}")
    return fit(blocks)


def project_blocks(state: ProjectState) -> list[Block]:
    p, r = state.project, state.readiness
    return sections(
        f"*{escape(p.name)}*, owned by <@{p.owner_id}>, created {slack_date(p.created_at)}.\n"
        f"Score *{pct(r.overall)}* ({state.band}), coverage {pct(r.coverage)}, "
        f"{r.answered}/{r.total} answered, "
        f"{len(r.gaps)} blocking gap(s). Sign-off: {SIGNOFF_LABELS[state.signoff]}."
    )
