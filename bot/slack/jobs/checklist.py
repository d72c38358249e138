"""Checklist work after the ack: post a checklist, re-render one after clicks, tell an assignee."""

from __future__ import annotations

from bot import projects
from bot.db.locks import named_lock
from bot.db.models import ItemAssignment
from bot.jobs import Claimed
from bot.readiness import project_state
from bot.slack import blocks as ui
from bot.slack import checklist_blocks as cb
from bot.slack.jobs.context import JobContext
from bot.slack.jobs.delivery import to_slack

POST = "checklist.post"
RENDER = "checklist.render"
ASSIGNED = "checklist.assigned"


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
        state = project_state(session, project, ctx.templates)
        blocks = cb.checklist_blocks(project, state, p["category"])
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
        state = project_state(session, project, ctx.templates)
        blocks = cb.checklist_blocks(project, state, p["category"])
        name = project.name
    with to_slack(
        f"posting the checklist to channel {p['channel']}", p.get("response_url"), "post in this channel"
    ):
        ctx.client_for(job.team_id).chat_postMessage(
            channel=p["channel"], text=f"Readiness checklist: {ui.escape(name)}", blocks=ui.to_dicts(blocks)
        )


def tell_assignee(ctx: JobContext, job: Claimed) -> None:
    """DM the assignee once (the DM's ts is stored); a reassignment since then sends nothing."""
    p = job.payload
    with ctx.db.session() as session:
        project = projects.get_project(session, job.team_id, p["project"])
        assignment = session.get(ItemAssignment, (p["project"], p["item"])) if project else None
        if (
            project is None
            or assignment is None
            or assignment.assignee_id != p["assignee"]
            or assignment.dm_ts
        ):
            return
        item = ctx.templates.checklist_for(session, project).item(p["item"])
        if item is None:
            return
        with to_slack(f"telling {assignment.assignee_id} of an assigned item of project {project.id}"):
            sent = ctx.client_for(job.team_id).chat_postMessage(
                channel=assignment.assignee_id,
                text=cb.assigned_dm_text(project, item, assignment),
            )
            assignment.dm_ts = str(sent["ts"])


HANDLERS = {POST: post, RENDER: render, ASSIGNED: tell_assignee}
