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
from bot.slack.blocks import bar, escape, fit, item_details, kpi_text, pct, sections, slack_date
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
            lines.append(
                f"🚧 {escape(gap.item.question)} ({state_text}). Guidance: _{escape(guidance)}_"
                + item_details(gap.item.id, state).replace("\n", " · ", 1)
            )
        blocks += sections("\n".join(lines))
    else:
        blocks += sections("✅ No blocking gaps.")
    people = state.open_by_person()
    if people:
        lines = ["*Open items by person*"]
        for user_id, items in sorted(people.items(), key=lambda kv: -len(kv[1])):
            listed = "; ".join(escape(i.question) for i in items[:3])
            more = f" (and {len(items) - 3} more)" if len(items) > 3 else ""
            lines.append(f"<@{user_id}>: {len(items)} open: {listed}{more}")
        blocks += sections("\n".join(lines))
    with_evidence = [i for i in state.checklist.items() if i.id in state.evidence]
    if with_evidence:
        lines = [f"*Evidence* ({len(with_evidence)} item(s))"]
        lines += [f"• {escape(i.question)}{item_details(i.id, state)}" for i in with_evidence[:8]]
        blocks += sections("\n".join(lines))
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
        f"{len(r.gaps)} blocking gap(s). Sign-off: {SIGNOFF_LABELS[state.signoff]}.\n"
        f"Checklist template `{state.template}` (version {state.checklist.version}); the owner moves it "
        "to the newest version with `/mlready project upgrade`."
    )
