"""`/mlready signoff @user [what]` and the stakeholder's Approve / Request changes."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import projects, signoffs
from bot.db.models import Signoff
from bot.readiness import project_state
from bot.slack import blocks as ui
from bot.slack import ids
from bot.slack import project_blocks as pb
from bot.slack.listeners.checklist import ack_no_project, team_of, user_of

if TYPE_CHECKING:
    from bot.slack.app import Services

log = logging.getLogger(__name__)


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
            signoff = signoffs.request_signoff(session, project, stakeholder, user_id, what)
            signoff_id = signoff.id
    except signoffs.SignoffError as exc:
        ack(response_type="ephemeral", text=str(exc))
        return
    ack(
        response_type="ephemeral",
        text=f"I asked <@{stakeholder}> to sign off; the answer will be posted in this channel.",
    )
    services.worker.submit(send_signoff_request, services, client, team_id, signoff_id)


def send_signoff_request(services: Services, client: WebClient, team_id: str, signoff_id: int) -> None:
    with services.db.session() as session:
        signoff = session.get(Signoff, signoff_id)
        project = projects.get_project(session, team_id, signoff.project_id) if signoff else None
        if signoff is None or project is None:
            return
        state = project_state(session, project, services.checklist)
        blocks = ui.to_dicts(pb.signoff_request_blocks(signoff, state))
        try:
            sent = client.chat_postMessage(
                channel=signoff.stakeholder_id, blocks=blocks, text=f"Sign-off requested for {project.name}"
            )
            signoff.dm_channel, signoff.dm_ts = sent["channel"], sent["ts"]
            client.chat_postMessage(
                channel=project.channel_id,
                text=f"🖊️ <@{signoff.requested_by}> asked <@{signoff.stakeholder_id}> to sign off "
                f"*{ui.escape(signoff.what)}*.",
            )
        except SlackApiError as exc:
            log.error(
                "sending the sign-off request for project %s (channel %s) failed: %s",
                project.id,
                project.channel_id,
                exc,
            )


def register(app: App, services: Services) -> None:
    def load(body: dict, action_value: str, respond: Respond):
        signoff_id = pb.decode(action_value).get("s")
        with services.db.session() as session:
            signoff = session.get(Signoff, signoff_id) if projects.is_id(signoff_id) else None
            project = projects.get_project(session, team_of(body), signoff.project_id) if signoff else None
        if signoff is None or project is None:
            respond(
                response_type="ephemeral", replace_original=False, text="I can't find that sign-off request."
            )
            return None
        return signoff

    def decide(client: WebClient, body: dict, signoff_id: int, outcome: str, comment: str = "") -> str | None:
        """Record approve / changes / revoke; returns an error message for the user, or None."""
        team_id, user_id = team_of(body), user_of(body)
        with services.db.session() as session:
            signoff = session.get(Signoff, signoff_id)
            project = projects.get_project(session, team_id, signoff.project_id) if signoff else None
            if signoff is None or project is None:
                return "I can't find that sign-off request."
            try:
                if outcome == "revoke":
                    signoffs.revoke(session, signoff, project, user_id)
                else:
                    signoffs.decide(session, signoff, project, user_id, outcome == "approve", comment)
            except signoffs.SignoffError as exc:
                return str(exc)
            state = project_state(session, project, services.checklist)
            blocks = ui.to_dicts(pb.signoff_request_blocks(signoff, state))
            dm = (signoff.dm_channel, signoff.dm_ts)
            verdict = {
                "approve": "✅ <@{u}> approved *{w}*.",
                "changes": "✋ <@{u}> requested changes to *{w}*: {c}",
                "revoke": "↩️ <@{u}> revoked their approval of *{w}*.",
            }[outcome].format(u=user_id, w=ui.escape(signoff.what), c=ui.escape(comment))
            channel = project.channel_id
        services.worker.submit(_after_decision, client, dm, blocks, channel, verdict)
        return None

    def on_button(outcome: str):
        def listener(ack: Ack, body: dict, action: dict, client: WebClient, respond: Respond) -> None:
            signoff = load(body, action.get("value", ""), respond)
            error = decide(client, body, signoff.id, outcome) if signoff is not None else None
            ack()
            if error:
                respond(response_type="ephemeral", replace_original=False, text=error)

        return listener

    app.action(ids.SIGNOFF_APPROVE)(on_button("approve"))
    app.action(ids.SIGNOFF_REVOKE)(on_button("revoke"))

    @app.action(ids.SIGNOFF_CHANGES)
    def on_changes(ack: Ack, body: dict, action: dict, client: WebClient, respond: Respond) -> None:
        ack()
        signoff = load(body, action.get("value", ""), respond)
        if signoff is None:
            return
        if user_of(body) != signoff.stakeholder_id:
            respond(
                response_type="ephemeral",
                replace_original=False,
                text=f"Only <@{signoff.stakeholder_id}> can answer this sign-off request.",
            )
            return
        client.views_open(trigger_id=body["trigger_id"], view=pb.changes_modal(signoff).to_dict())

    @app.view(ids.SIGNOFF_CHANGES_MODAL)
    def on_changes_submit(ack: Ack, body: dict, view: dict, client: WebClient) -> None:
        signoff_id = pb.decode(view.get("private_metadata", "")).get("s")
        comment = ((view.get("state", {}).get("values", {}).get("comment") or {}).get("value") or {}).get(
            "value"
        ) or ""
        if not projects.is_id(signoff_id):
            ack(response_action="errors", errors={"comment": "This request no longer exists."})
            return
        error = decide(client, body, signoff_id, "changes", comment)
        if error:
            ack(response_action="errors", errors={"comment": error})
            return
        ack()


def _after_decision(
    client: WebClient, dm: tuple[str, str], blocks: list[dict], channel: str, verdict: str
) -> None:
    try:
        if dm[0] and dm[1]:
            client.chat_update(channel=dm[0], ts=dm[1], blocks=blocks, text=verdict)
        client.chat_postMessage(channel=channel, text=verdict)
    except SlackApiError as exc:
        log.error("announcing a sign-off decision in channel %s failed: %s", channel, exc)
