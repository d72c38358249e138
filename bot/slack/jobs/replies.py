"""Small replies after the ack: a private message, a channel post, a response-URL reply."""

from __future__ import annotations

from bot.jobs import Claimed
from bot.slack.jobs.context import JobContext
from bot.slack.jobs.delivery import send_to_response_url, to_slack

EPHEMERAL = "reply.ephemeral"
POST = "reply.post"
RESPOND = "reply.respond"


def ephemeral(ctx: JobContext, job: Claimed) -> None:
    p = job.payload
    with to_slack(f"a private note in channel {p['channel']}"):
        ctx.client_for(job.team_id).chat_postEphemeral(channel=p["channel"], user=p["user"], text=p["text"])


def post(ctx: JobContext, job: Claimed) -> None:
    p = job.payload
    with to_slack(f"posting to channel {p['channel']}"):
        ctx.client_for(job.team_id).chat_postMessage(channel=p["channel"], text=p["text"])


def respond(ctx: JobContext, job: Claimed) -> None:
    """Send `message` (text, blocks, response_type, replace_original ...) to the response URL."""
    send_to_response_url(job.payload["response_url"], job.payload["message"], "a reply to a response URL")


HANDLERS = {EPHEMERAL: ephemeral, POST: post, RESPOND: respond}
