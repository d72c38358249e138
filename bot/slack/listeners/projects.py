"""`/mlready project ...`, `/mlready status` and `/mlready export`."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slack_bolt import Ack, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import project_report, projects
from bot.readiness import project_state
from bot.slack import blocks as ui
from bot.slack import project_blocks as pb
from bot.slack.listeners.checklist import ack_no_project

if TYPE_CHECKING:
    from bot.slack.app import Services

log = logging.getLogger(__name__)


def handle_project_command(
    ack: Ack, command: dict, client: WebClient, args: str, services: Services, respond: Respond
) -> None:
    team_id, channel = command.get("team_id", ""), command.get("channel_id", "")
    user_id = command.get("user_id", "")
    verb, _, rest = args.strip().partition(" ")
    verb = verb.lower()
    try:
        with services.db.session() as session:
            if verb == "create":
                project = projects.create_project(session, team_id, channel, user_id, rest)
                ack(
                    response_type="in_channel",
                    text=f"🎯 <@{user_id}> created the ML project *{ui.escape(project.name)}* in "
                    "this channel. Run `/mlready checklist` to see where it stands.",
                )
                return
            project = projects.channel_project(session, team_id, channel)
            if project is None:
                ack_no_project(ack)
                return
            if verb == "archive":
                projects.archive_project(session, project, user_id)
                ack(
                    response_type="in_channel",
                    text=f"🗄️ <@{user_id}> archived the project *{ui.escape(project.name)}*.",
                )
                return
            if verb:
                ack(
                    response_type="ephemeral",
                    text="Use `/mlready project`, "
                    "`/mlready project create <name>` or `/mlready project archive`.",
                )
                return
            state = project_state(session, project, services.checklist)
            ack(
                response_type="ephemeral",
                blocks=ui.to_dicts(pb.project_blocks(state)),
                text=f"Project {project.name}",
            )
    except projects.ProjectError as exc:
        ack(response_type="ephemeral", text=str(exc))


def handle_status_command(
    ack: Ack, command: dict, client: WebClient, args: str, services: Services, respond: Respond
) -> None:
    with services.db.session() as session:
        project = projects.channel_project(session, command.get("team_id", ""), command.get("channel_id", ""))
        if project is None:
            ack_no_project(ack)
            return
        state = project_state(session, project, services.checklist)
        blocks = pb.status_blocks(state, services.doc_titles)
    ack(response_type="ephemeral", text=f"Readiness of {project.name}", blocks=ui.to_dicts(blocks))


def handle_export_command(
    ack: Ack, command: dict, client: WebClient, args: str, services: Services, respond: Respond
) -> None:
    team_id, channel = command.get("team_id", ""), command.get("channel_id", "")
    with services.db.session() as session:
        project = projects.channel_project(session, team_id, channel)
        if project is None:
            ack_no_project(ack)
            return
        project_id = project.id
    ack(response_type="ephemeral", text="Preparing the Markdown report…")
    services.worker.submit(
        _upload_report, services, client, team_id, project_id, channel, command.get("user_id", ""), respond
    )


def _upload_report(
    services: Services,
    client: WebClient,
    team_id: str,
    project_id: int,
    channel: str,
    user_id: str,
    respond: Respond,
) -> None:
    with services.db.session() as session:
        project = projects.get_project(session, team_id, project_id)
        if project is None:
            return
        content = project_report.render(session, project, services.checklist, "md")
        name = project.name
    slug = "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-") or "project"
    try:
        client.files_upload_v2(
            channel=channel,
            content=content,
            filename=f"{slug}-readiness.md",
            title=f"Readiness report: {name}",
            initial_comment=f"<@{user_id}> exported the readiness report.",
        )
    except SlackApiError as exc:
        log.error("uploading the report to channel %s failed: %s", channel, exc)
        respond(
            response_type="ephemeral",
            text="I could not upload the report "
            f"({exc.response.get('error')}). Invite me with `/invite @mlready` and retry.",
        )
