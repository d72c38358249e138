"""Sign-off work after the ack: the stakeholder's DM with the buttons, and the decision posted."""

from __future__ import annotations

from bot import projects
from bot.db.models import Signoff
from bot.jobs import Claimed
from bot.readiness import project_state
from bot.slack import blocks as ui
from bot.slack import signoff_blocks as sb
from bot.slack.jobs.context import JobContext
from bot.slack.jobs.delivery import to_slack

REQUEST = "signoff.request"
DECIDED = "signoff.decided"


def send_request(ctx: JobContext, job: Claimed) -> None:
    """DM the stakeholder the request (once: the DM's ts is stored), then tell the channel."""
    client = ctx.client_for(job.team_id)
    with ctx.db.session() as session:
        signoff = session.get(Signoff, job.payload["signoff"])
        project = projects.get_project(session, job.team_id, signoff.project_id) if signoff else None
        if signoff is None or project is None:
            return
        if not signoff.dm_ts:
            state = project_state(session, project, ctx.templates)
            with to_slack(f"the sign-off DM for project {project.id}"):
                sent = client.chat_postMessage(
                    channel=signoff.stakeholder_id,
                    blocks=ui.to_dicts(sb.signoff_request_blocks(signoff, state)),
                    text=f"Sign-off requested for {ui.escape(project.name)}",
                )
                signoff.dm_channel, signoff.dm_ts = sent["channel"], sent["ts"]
            if not signoff.dm_ts:
                return  # a final error, logged
        session.commit()  # the DM is recorded before the channel hears of it
        with to_slack(f"announcing the sign-off request in channel {project.channel_id}"):
            client.chat_postMessage(
                channel=project.channel_id,
                text=f"🖊️ <@{signoff.requested_by}> asked <@{signoff.stakeholder_id}> to sign off "
                f"*{ui.escape(signoff.what)}*.",
            )


def announce_decision(ctx: JobContext, job: Claimed) -> None:
    p = job.payload
    client = ctx.client_for(job.team_id)
    if p.get("dm_channel") and p.get("dm_ts"):
        with to_slack(f"updating the sign-off DM {p['dm_channel']}"):
            client.chat_update(channel=p["dm_channel"], ts=p["dm_ts"], blocks=p["blocks"], text=p["verdict"])
    with to_slack(f"announcing a sign-off decision in channel {p['channel']}"):
        client.chat_postMessage(channel=p["channel"], text=p["verdict"])


HANDLERS = {REQUEST: send_request, DECIDED: announce_decision}
