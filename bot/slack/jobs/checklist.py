"""Checklist work after the ack: post a checklist, re-render one after clicks, announce a KPI."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError

from bot import projects
from bot.db.locks import named_lock
from bot.jobs import Claimed, RetryLater
from bot.readiness import project_state
from bot.slack import blocks as ui
from bot.slack import checklist_blocks as cb
from bot.slack.jobs.context import JobContext
from bot.slack.jobs.delivery import send_to_response_url, slack_error, to_slack, transient

POST = "checklist.post"
RENDER = "checklist.render"


def render_key(channel: str, ts: str) -> str:
    """Renders of one message coalesce: a burst of clicks is one waiting render."""
    return f"render:{channel}:{ts}"


def render(ctx: JobContext, job: Claimed) -> None:
    """Re-render a checklist message from the stored state, one render of a message at a time."""
    p = job.payload
    channel, ts = p["channel"], p["ts"]
    with named_lock(ctx.db, f"{channel}:{ts}"), ctx.db.session() as session:
        project = projects.get_project(session, job.team_id, p["project"])
        if project is None:
            return
        state = project_state(session, project, ctx.checklist)
        blocks = cb.checklist_blocks(project, ctx.checklist, state, p["category"])
        with to_slack(f"updating the checklist in channel {channel}"):
            ctx.client_for(job.team_id).chat_update(
                channel=channel,
                ts=ts,
                text=f"Readiness checklist: {ui.escape(project.name)}",
                blocks=ui.to_dicts(blocks),
            )


def post(ctx: JobContext, job: Claimed) -> None:
    p = job.payload
    with ctx.db.session() as session:
        project = projects.channel_project(session, job.team_id, p["channel"])
        if project is None:
            return
        state = project_state(session, project, ctx.checklist)
        blocks = cb.checklist_blocks(project, ctx.checklist, state, p["category"])
        name = project.name
    try:
        ctx.client_for(job.team_id).chat_postMessage(
            channel=p["channel"], text=f"Readiness checklist: {ui.escape(name)}", blocks=ui.to_dicts(blocks)
        )
    except SlackApiError as exc:
        if transient(exc):
            raise RetryLater(f"posting the checklist to channel {p['channel']}: {slack_error(exc)}") from exc
        if p.get("response_url"):
            send_to_response_url(
                p["response_url"],
                {
                    "response_type": "ephemeral",
                    "text": f"I could not post in this channel ({slack_error(exc)}). "
                    "Invite me with `/invite @mlready` and retry.",
                },
                f"telling the user in channel {p['channel']}",
            )


HANDLERS = {POST: post, RENDER: render}
