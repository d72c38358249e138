"""`/mlready signoff @user [what]` and the stakeholder's Approve / Request changes / Revoke.

The decision and the job that announces it are stored in one transaction before the ack; the
DM and the channel post come from bot/slack/jobs/signoff.py.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot import projects, signoffs
from bot.db.models import Signoff
from bot.readiness import project_state
from bot.slack import action_values as av
from bot.slack import blocks as ui
from bot.slack import ids
from bot.slack import signoff_blocks as sb
from bot.slack.jobs import signoff as signoff_jobs
from bot.slack.request_context import ack_no_project, modal_field, team_of, user_of

if TYPE_CHECKING:
    from bot.slack.services import Services

log = logging.getLogger(__name__)

NOT_FOUND = "I can't find that sign-off request."
VERDICTS = {
    "approve": "✅ <@{u}> approved *{w}*.",
    "changes": "✋ <@{u}> requested changes to *{w}*: {c}",
    "revoke": "↩️ <@{u}> revoked their approval of *{w}*.",
}


def handle_signoff_command(
    ack: Ack, command: dict, client: WebClient, args: str, services: Services, respond: Respond
) -> None:
    team_id, channel = command.get("team_id", ""), command.get("channel_id", "")
    user_id = command.get("user_id", "")
    try:
        stakeholder, what = signoffs.parse_request(args)
        with services.db.session() as session:
            project = projects.channel_project(session, team_id, channel)
            if project is None:
                ack_no_project(ack)
                return
            signoff, replaced = signoffs.request_signoff(session, project, stakeholder, user_id, what)
            services.outbox.add(session, signoff_jobs.REQUEST, team_id, {"signoff": signoff.id})
    except signoffs.SignoffError as exc:
        ack(response_type="ephemeral", text=str(exc))
        return
    text = f"I asked <@{stakeholder}> to sign off; the answer will be posted in this channel."
    if replaced is not None:
        text += f" It replaces the request to <@{replaced.stakeholder_id}>, which can no longer be answered."
    ack(response_type="ephemeral", text=text)


def decide(
    services: Services, body: dict, ref: av.SignoffRef | None, outcome: str, comment: str = ""
) -> str | None:
    """Record approve / changes / revoke with its announcement job; an error for the user, or None."""
    team_id, user_id = team_of(body), user_of(body)
    with services.db.session() as session:
        signoff = session.get(Signoff, ref.signoff) if ref is not None else None
        project = projects.get_project(session, team_id, signoff.project_id) if signoff else None
        if signoff is None or project is None:
            return NOT_FOUND
        try:
            if outcome == "revoke":
                signoffs.revoke(session, signoff, project, user_id)
            else:
                signoffs.decide(session, signoff, project, user_id, outcome == "approve", comment)
        except signoffs.SignoffError as exc:
            return str(exc)
        state = project_state(session, project, services.templates)
        verdict = VERDICTS[outcome].format(u=user_id, w=ui.escape(signoff.what), c=ui.escape(comment))
        services.outbox.add(
            session,
            signoff_jobs.DECIDED,
            team_id,
            {
                "dm_channel": signoff.dm_channel,
                "dm_ts": signoff.dm_ts,
                "blocks": ui.to_dicts(sb.signoff_request_blocks(signoff, state)),
                "channel": project.channel_id,
                "verdict": verdict,
            },
        )
    return None


def on_decision_button(
    services: Services, outcome: str, ack: Ack, body: dict, action: dict, respond: Respond
) -> None:
    error = decide(services, body, av.SignoffRef.parse(action.get("value")), outcome)
    ack()
    if error:
        respond(response_type="ephemeral", replace_original=False, text=error)


def on_changes(
    services: Services, ack: Ack, body: dict, action: dict, client: WebClient, respond: Respond
) -> None:
    ack()
    ref = av.SignoffRef.parse(action.get("value"))
    with services.db.session() as session:
        signoff = session.get(Signoff, ref.signoff) if ref is not None else None
        project = projects.get_project(session, team_of(body), signoff.project_id) if signoff else None
    if signoff is None or project is None:
        respond(response_type="ephemeral", replace_original=False, text=NOT_FOUND)
        return
    if user_of(body) != signoff.stakeholder_id:
        respond(
            response_type="ephemeral",
            replace_original=False,
            text=f"Only <@{signoff.stakeholder_id}> can answer this sign-off request.",
        )
        return
    client.views_open(trigger_id=body["trigger_id"], view=sb.changes_modal(signoff).to_dict())


def on_changes_submit(services: Services, ack: Ack, body: dict, view: dict) -> None:
    ref = av.SignoffRef.parse(view.get("private_metadata"))
    if ref is None:
        ack(response_action="errors", errors={"comment": "This request no longer exists."})
        return
    error = decide(services, body, ref, "changes", modal_field(view, "comment") or "")
    if error:
        ack(response_action="errors", errors={"comment": error})
        return
    ack()


def register(app: App, services: Services) -> None:
    services.subcommands["signoff"] = handle_signoff_command

    @app.action(ids.SIGNOFF_APPROVE)
    def approve(ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        on_decision_button(services, "approve", ack, body, action, respond)

    @app.action(ids.SIGNOFF_REVOKE)
    def revoke(ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        on_decision_button(services, "revoke", ack, body, action, respond)

    @app.action(ids.SIGNOFF_CHANGES)
    def changes(ack: Ack, body: dict, action: dict, client: WebClient, respond: Respond) -> None:
        on_changes(services, ack, body, action, client, respond)

    @app.view(ids.SIGNOFF_CHANGES_MODAL)
    def changes_submit(ack: Ack, body: dict, view: dict) -> None:
        on_changes_submit(services, ack, body, view)
