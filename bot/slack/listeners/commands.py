"""The `/mlready` slash command: parse, then hand over to the surface that owns the subcommand."""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.commands import COMMAND, help_text, parse
from bot.slack import blocks as ui
from bot.slack.answering import Asked
from bot.slack.listeners.checklist import handle_checklist_command
from bot.slack.listeners.projects import (
    handle_export_command,
    handle_project_command,
    handle_status_command,
)
from bot.slack.listeners.reminders import handle_remind_command
from bot.slack.listeners.signoff import handle_signoff_command

if TYPE_CHECKING:
    from bot.slack.app import Services

HANDLERS = {
    "checklist": handle_checklist_command,
    "project": handle_project_command,
    "status": handle_status_command,
    "signoff": handle_signoff_command,
    "export": handle_export_command,
    "remind": handle_remind_command,
}


def register(app: App, services: Services) -> None:
    @app.command(COMMAND)
    def on_command(ack: Ack, command: dict, client: WebClient, respond: Respond) -> None:
        parsed = parse(command.get("text", ""))
        if parsed.name == "ask":
            asked = Asked(
                team_id=command.get("team_id", ""),
                channel_id=command.get("channel_id", ""),
                user_id=command.get("user_id", ""),
                question=parsed.args,
                surface="command",
                response_url=command.get("response_url"),
            )
            if services.outbox.question({}, asked):
                ack(response_type="ephemeral", text=f"Looking that up: _{ui.escape(parsed.args[:200])}_")
            else:
                ack(
                    response_type="ephemeral",
                    text="I'm answering a lot of questions right now; please try again in a minute.",
                )
            return
        handler = HANDLERS.get(parsed.name)
        if handler is not None:
            handler(ack, command, client, parsed.args, services, respond)
            return
        # help, unknown and empty subcommands
        ack(
            response_type="ephemeral",
            text=help_text(),
            blocks=ui.to_dicts(ui.help_blocks(help_text(), parsed.unknown)),
        )
