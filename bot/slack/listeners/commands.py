"""The `/mlready` slash command."""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.commands import COMMAND, help_text, parse
from bot.slack import blocks as ui
from bot.slack.answering import Asked

if TYPE_CHECKING:
    from bot.slack.app import Services


def register(app: App, services: Services) -> None:
    @app.command(COMMAND)
    def on_command(ack: Ack, command: dict, client: WebClient) -> None:
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
            if services.worker.submit(services.answers.answer, client, asked):
                ack(response_type="ephemeral", text=f"Looking that up: _{ui.escape(parsed.args[:200])}_")
            else:
                ack(
                    response_type="ephemeral",
                    text="I'm answering a lot of questions right now; please try again in a minute.",
                )
            return
        # help, unknown and empty subcommands, and those of features not built yet
        ack(
            response_type="ephemeral",
            text=help_text(),
            blocks=ui.to_dicts(ui.help_blocks(help_text(), parsed.unknown)),
        )
