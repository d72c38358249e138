"""`/mlready project ...`, `/mlready status` and `/mlready export`."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot import projects
from bot.command_grammar import take_option
from bot.db.models import Project
from bot.readiness import project_state
from bot.slack import blocks as ui
from bot.slack import status_blocks as stb
from bot.slack.jobs import projects as project_jobs
from bot.slack.request_context import ack_no_project
from bot.templates import DEFAULT, TemplateError, Upgrade

if TYPE_CHECKING:
    from bot.slack.services import Services

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
                name, template_name = take_option(rest, "template")
                template = services.templates.resolve(session, team_id, template_name or DEFAULT)
                project = projects.create_project(session, team_id, channel, user_id, name)
                project.template_id = services.templates.freeze(session, team_id, template, user_id).id
                ack(
                    response_type="in_channel",
                    text=f"🎯 <@{user_id}> created the ML project *{ui.escape(project.name)}* in "
                    f"this channel, on the checklist template `{template.name}` "
                    f"({len(template.checklist.items())} items). "
                    "Run `/mlready checklist` to see where it stands.",
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
            if verb == "upgrade":
                change = services.templates.upgrade(session, project, user_id)
                ack(**upgrade_reply(project, change, user_id))
                return
            if verb:
                ack(
                    response_type="ephemeral",
                    text="Use `/mlready project`, `/mlready project create <name> [--template T]`, "
                    "`/mlready project upgrade` or `/mlready project archive`.",
                )
                return
            state = project_state(session, project, services.templates)
            ack(
                response_type="ephemeral",
                blocks=ui.to_dicts(stb.project_blocks(state)),
                text=f"Project {ui.escape(project.name)}",
            )
    except (projects.ProjectError, TemplateError) as exc:
        ack(response_type="ephemeral", text=str(exc))


def upgrade_reply(project: Project, change: Upgrade, user_id: str) -> dict:
    if not change.changed:
        return {
            "response_type": "ephemeral",
            "text": f"*{ui.escape(project.name)}* already runs the newest version of the checklist "
            f"template `{change.name}` (version {change.version}).",
        }
    retired = (
        f" {len(change.retired)} item(s) retired ({', '.join(change.retired[:5])}): their history is "
        "kept and they no longer count."
        if change.retired
        else ""
    )
    return {
        "response_type": "in_channel",
        "text": f"⬆️ <@{user_id}> moved *{ui.escape(project.name)}* to version {change.version} of the "
        f"checklist template `{change.name}`: {len(change.added)} new item(s).{retired}",
    }


def handle_status_command(
    ack: Ack, command: dict, client: WebClient, args: str, services: Services, respond: Respond
) -> None:
    with services.db.session() as session:
        project = projects.channel_project(session, command.get("team_id", ""), command.get("channel_id", ""))
        if project is None:
            ack_no_project(ack)
            return
        state = project_state(session, project, services.templates)
        blocks = stb.status_blocks(state, services.doc_titles)
    ack(response_type="ephemeral", text=f"Readiness of {ui.escape(project.name)}", blocks=ui.to_dicts(blocks))


def handle_export_command(
    ack: Ack, command: dict, client: WebClient, args: str, services: Services, respond: Respond
) -> None:
    team_id, channel = command.get("team_id", ""), command.get("channel_id", "")
    with services.db.session() as session:
        project = projects.channel_project(session, team_id, channel)
        if project is not None:
            services.outbox.add(
                session,
                project_jobs.EXPORT,
                team_id,
                {
                    "project": project.id,
                    "channel": channel,
                    "user": command.get("user_id", ""),
                    "response_url": command.get("response_url"),
                },
            )
    if project is None:
        ack_no_project(ack)
        return
    ack(response_type="ephemeral", text="Preparing the Markdown report…")


def register(app: App, services: Services) -> None:
    services.subcommands.update(
        project=handle_project_command, status=handle_status_command, export=handle_export_command
    )
