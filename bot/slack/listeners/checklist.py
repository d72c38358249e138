"""`/mlready checklist`: answering items, moving between sections, "Why it matters", KPIs."""

from __future__ import annotations

import logging
import re
from datetime import date
from typing import TYPE_CHECKING

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import projects
from bot.readiness import AnswerError, add_kpi, parse_kpi, project_state, record_answer
from bot.slack import blocks as ui
from bot.slack import ids
from bot.slack import project_blocks as pb

if TYPE_CHECKING:
    from bot.slack.app import Services

log = logging.getLogger(__name__)


def team_of(body: dict) -> str:
    return (body.get("team") or {}).get("id") or body.get("team_id", "")


def user_of(body: dict) -> str:
    return (body.get("user") or {}).get("id") or body.get("user_id", "")


def ack_no_project(ack: Ack) -> None:
    """The answer to any project command in a channel (or DM) without a project."""
    ack(
        response_type="ephemeral",
        blocks=ui.to_dicts(pb.no_project_blocks()),
        text="This channel has no ML project yet.",
    )


def refresh_message(
    services: Services, client: WebClient, team_id: str, project_id: int, channel: str, ts: str, category: str
) -> None:
    """Re-render a checklist message from the stored state (serialized per message)."""
    with services.message_lock(channel, ts), services.db.session() as session:
        project = projects.get_project(session, team_id, project_id)
        if project is None:
            return
        state = project_state(session, project, services.checklist)
        blocks = pb.checklist_blocks(project, services.checklist, state, category)
        try:
            client.chat_update(
                channel=channel,
                ts=ts,
                text=f"Readiness checklist: {project.name}",
                blocks=ui.to_dicts(blocks),
            )
        except SlackApiError as exc:
            log.error("updating the checklist in channel %s failed: %s", channel, exc)


def refresh_later(
    services: Services, client: WebClient, team_id: str, project_id: int, channel: str, ts: str, category: str
) -> None:
    """Queue a re-render; a burst of clicks on one message costs one queue slot, not one each."""
    services.worker.submit_latest(
        ("render", channel, ts), refresh_message, services, client, team_id, project_id, channel, ts, category
    )


def post_checklist(
    services: Services, client: WebClient, team_id: str, channel: str, category: str, respond: Respond | None
) -> None:
    with services.db.session() as session:
        project = projects.channel_project(session, team_id, channel)
        if project is None:
            return
        state = project_state(session, project, services.checklist)
        blocks = pb.checklist_blocks(project, services.checklist, state, category)
        name = project.name
    try:
        client.chat_postMessage(
            channel=channel, text=f"Readiness checklist: {name}", blocks=ui.to_dicts(blocks)
        )
    except SlackApiError as exc:
        log.error("posting the checklist to channel %s failed: %s", channel, exc)
        if respond is not None:
            respond(
                response_type="ephemeral",
                text="I could not post in this channel "
                f"({exc.response.get('error')}). Invite me with `/invite @mlready` and retry.",
            )


def handle_checklist_command(
    ack: Ack, command: dict, client: WebClient, args: str, services: Services, respond: Respond
) -> None:
    category = args.strip().lower() or "objectives"
    if services.checklist.section(category) is None:
        known = ", ".join(s.category for s in services.checklist.sections)
        ack(
            response_type="ephemeral",
            text=f"There is no checklist section `{ui.escape(category[:40])}`. Sections: {known}.",
        )
        return
    team_id, channel = command.get("team_id", ""), command.get("channel_id", "")
    with services.db.session() as session:
        project = projects.channel_project(session, team_id, channel)
    if project is None:
        ack_no_project(ack)
        return
    ack()
    services.worker.submit(post_checklist, services, client, team_id, channel, category, respond)


def register(app: App, services: Services) -> None:
    def context(body: dict, action: dict, respond: Respond):
        """(project, team, user, value) for a checklist button, or None after telling the user."""
        value = pb.decode(action.get("value", ""))
        team_id, user_id = team_of(body), user_of(body)
        project_id = value.get("p")
        with services.db.session() as session:
            project = (
                projects.get_project(session, team_id, project_id) if isinstance(project_id, int) else None
            )
        if project is None:
            respond(
                response_type="ephemeral",
                replace_original=False,
                text="That checklist belongs to a project I can't find in this workspace. "
                "Run `/mlready checklist` for a fresh one.",
            )
            return None
        if project.archived_at is not None:
            respond(
                response_type="ephemeral",
                replace_original=False,
                text=f"The project *{ui.escape(project.name)}* is archived; its checklist is closed.",
            )
            return None
        return project, team_id, user_id, value

    @app.action(re.compile(f"^{ids.CHECKLIST_ANSWER}_"))
    def on_answer(ack: Ack, body: dict, action: dict, client: WebClient, respond: Respond) -> None:
        found = context(body, action, respond)
        if found is None:
            ack()
            return
        project, team_id, user_id, value = found
        item_id = str(value.get("i"))
        try:
            with services.db.session() as session:
                fresh = projects.get_project(session, team_id, project.id)
                assert fresh is not None
                record_answer(session, fresh, services.checklist, item_id, str(value.get("v")), user_id)
        except AnswerError as exc:
            ack()
            respond(response_type="ephemeral", replace_original=False, text=str(exc))
            return
        ack()  # the click is stored before Slack hears back
        container = body.get("container") or {}
        channel, ts = container.get("channel_id", ""), container.get("message_ts", "")
        refresh_later(services, client, team_id, project.id, channel, ts, item_id.split(".")[0])

    @app.action(re.compile(f"^{ids.CHECKLIST_PAGE}_"))
    def on_page(ack: Ack, body: dict, action: dict, client: WebClient, respond: Respond) -> None:
        ack()
        found = context(body, action, respond)
        if found is None:
            return
        project, team_id, _, value = found
        category = str(value.get("c"))
        if services.checklist.section(category) is None:
            return
        container = body.get("container") or {}
        channel, ts = container.get("channel_id", ""), container.get("message_ts", "")
        refresh_later(services, client, team_id, project.id, channel, ts, category)

    @app.action(ids.CHECKLIST_WHY)
    def on_why(ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        ack()
        found = context(body, action, respond)
        if found is None:
            return
        item = services.checklist.item(str(found[3].get("i")))
        if item is None:
            respond(
                response_type="ephemeral",
                replace_original=False,
                text="That checklist item no longer exists.",
            )
            return
        respond(
            response_type="ephemeral",
            replace_original=False,
            text=f"Why it matters: {item.question}",
            blocks=ui.to_dicts(
                pb.guidance_blocks(item, [services.docs[d] for d in item.docs if d in services.docs])
            ),
        )

    @app.action(ids.KPI_OPEN)
    def on_kpi_open(ack: Ack, body: dict, action: dict, client: WebClient, respond: Respond) -> None:
        ack()
        found = context(body, action, respond)
        if found is None:
            return
        # Only a checklist message is re-rendered after saving; an answer message stays as it is.
        container = (body.get("container") or {}) if found[3].get("m") else {}
        view = pb.kpi_modal(found[0], container.get("channel_id", ""), container.get("message_ts", ""))
        client.views_open(trigger_id=body["trigger_id"], view=view.to_dict())

    @app.view(ids.KPI_MODAL)
    def on_kpi_submit(ack: Ack, body: dict, view: dict, client: WebClient) -> None:
        meta = pb.decode(view.get("private_metadata", ""))
        values = view.get("state", {}).get("values", {})

        def field(block: str) -> str | None:
            element = (values.get(block) or {}).get("value") or {}
            return element.get("value") or element.get("selected_date") or element.get("selected_user")

        raw = {
            "metric": field("metric"),
            "baseline": field("baseline"),
            "target": field("target"),
            "unit": field("unit"),
            "deadline": field("deadline"),
            "owner_id": field("owner"),
        }
        kpi, errors = parse_kpi(raw, date.today())
        if kpi is None:
            # Errors go next to the modal's blocks; the owner's block is "owner".
            ack(response_action="errors", errors={k.removesuffix("_id"): v for k, v in errors.items()})
            return
        team_id, user_id = team_of(body), user_of(body)
        with services.db.session() as session:
            project = (
                projects.get_project(session, team_id, meta.get("p"))
                if isinstance(meta.get("p"), int)
                else None
            )
            if project is None or project.archived_at is not None:
                ack(
                    response_action="errors",
                    errors={"metric": "This project is archived or no longer exists."},
                )
                return
            add_kpi(session, project, kpi, user_id)
            project_id, channel = project.id, project.channel_id
        ack()
        text = (
            f"📈 <@{user_id}> recorded the KPI *{ui.escape(kpi.metric)}*: "
            f"{kpi.baseline:g} → {kpi.target:g} {ui.escape(kpi.unit)}".rstrip()
        )
        services.worker.submit(_post, client, channel, text)
        if meta.get("c") and meta.get("t"):
            refresh_later(services, client, team_id, project_id, meta["c"], meta["t"], "kpis")


def _post(client: WebClient, channel: str, text: str) -> None:
    try:
        client.chat_postMessage(channel=channel, text=text)
    except SlackApiError as exc:
        log.error("posting to channel %s failed: %s", channel, exc)
