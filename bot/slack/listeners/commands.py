"""The `/mlready` slash command: parse, answer `ask` and `help`, and hand every other subcommand
to the listener group that registered it in `services.subcommands`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.command_grammar import COMMAND, help_text, parse, plain_text
from bot.slack import blocks as ui
from bot.slack.jobs.answers import Asked

if TYPE_CHECKING:
    from bot.slack.services import Services


def on_command(services: Services, ack: Ack, command: dict, client: WebClient, respond: Respond) -> None:
    parsed = parse(command.get("text", ""))
    if parsed.name == "ask":
        asked = Asked(
            team_id=command.get("team_id", ""),
            channel_id=command.get("channel_id", ""),
            user_id=command.get("user_id", ""),
            question=plain_text(parsed.args),
            surface="command",
            response_url=command.get("response_url"),
        )
        if services.outbox.question({}, asked):
            ack(response_type="ephemeral", text=f"Looking that up: _{ui.escape(asked.question[:200])}_")
        else:
            ack(
                response_type="ephemeral",
                text="I'm answering a lot of questions right now; please try again in a minute.",
            )
        return
    handler = services.subcommands.get(parsed.name)  # added by each listener group
    if handler is not None:
        # sign-off reads the stakeholder's mention markup itself; the others get plain text
        args = parsed.args if parsed.name == "signoff" else plain_text(parsed.args)
        handler(ack, command, client, args, services, respond)
        return
    # help, unknown and empty subcommands
    ack(
        response_type="ephemeral",
        text=help_text(),
        blocks=ui.to_dicts(ui.help_blocks(help_text(), parsed.unknown)),
    )


def register(app: App, services: Services) -> None:
    @app.command(COMMAND)
    def command(ack: Ack, command: dict, client: WebClient, respond: Respond) -> None:
        on_command(services, ack, command, client, respond)
