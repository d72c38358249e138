"""Block Kit for sign-off: the stakeholder's request with its buttons, and the changes modal."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
)
from slack_sdk.models.views import View

from bot.checklist import RESPONSE_LABELS, ResponseValue
from bot.db.models import Signoff
from bot.readiness import ProjectState
from bot.slack import action_values as av
from bot.slack import ids
from bot.slack.blocks import button, escape, fit, kpi_text, pct, sections

SIGNOFF_LABELS = {
    "none": "not requested yet",
    "requested": "requested, waiting",
    "approved": "approved",
    "changes-requested": "changes requested",
    "revoked": "revoked",
    "stale": "stale: the KPIs changed after approval",
}


def signoff_request_blocks(signoff: Signoff, state: ProjectState) -> list[Block]:
    p, r = state.project, state.readiness
    objective = state.responses.get("objectives.problem-statement")
    lines = [
        f"<@{signoff.requested_by}> asks you to sign off *{escape(signoff.what)}* for the "
        f"ML project *{escape(p.name)}* (<#{p.channel_id}>)."
    ]
    lines.append(
        "Problem statement agreed: "
        + (RESPONSE_LABELS[ResponseValue(objective.value)] if objective else "not answered yet")
    )
    kpis = [f"• {kpi_text(k)}" for k in state.kpis] or ["• no KPI recorded yet"]
    gaps = [f"• {escape(g.item.question)}" for g in r.gaps if g.item.id != "stakeholders.signoff"] or [
        "• none"
    ]
    blocks = sections("\n".join(lines))
    blocks += sections("*KPIs*\n" + "\n".join(kpis))
    blocks += sections(f"*Open blocking gaps* (score {pct(r.overall)})\n" + "\n".join(gaps))
    if signoff.status == "requested":
        blocks.append(
            ActionsBlock(
                block_id="signoff",
                elements=[
                    button(
                        "Approve",
                        ids.SIGNOFF_APPROVE,
                        av.SignoffRef(signoff=signoff.id).value(),
                        style="primary",
                    ),
                    button(
                        "Request changes",
                        ids.SIGNOFF_CHANGES,
                        av.SignoffRef(signoff=signoff.id).value(),
                        style="danger",
                    ),
                ],
            )
        )
    else:
        verdict = {"approved": "✅ Approved", "revoked": "↩️ Approval revoked"}.get(
            signoff.status, "✋ Changes requested"
        )
        comment = f": {escape(signoff.comment)}" if signoff.comment else ""
        blocks.append(
            ContextBlock(
                elements=[MarkdownTextObject(text=f"{verdict} by <@{signoff.stakeholder_id}>{comment}")]
            )
        )
        if signoff.status == "approved":
            blocks.append(
                ActionsBlock(
                    block_id="signoff_revoke",
                    elements=[
                        button(
                            "Revoke approval", ids.SIGNOFF_REVOKE, av.SignoffRef(signoff=signoff.id).value()
                        )
                    ],
                )
            )
    return fit(blocks)


def changes_modal(signoff: Signoff) -> View:
    return View(
        type="modal",
        callback_id=ids.SIGNOFF_CHANGES_MODAL,
        title="Request changes",
        submit="Send",
        close="Cancel",
        private_metadata=av.SignoffRef(signoff=signoff.id).value(),
        blocks=[
            InputBlock(
                block_id="comment",
                label="What should change?",
                element=PlainTextInputElement(action_id="value", multiline=True, max_length=2000),
            )
        ],
    )
