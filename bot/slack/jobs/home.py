"""App Home: the user's projects with their scores and open blocking gaps, and how to use mlready."""

from __future__ import annotations

from bot import projects
from bot.command_grammar import help_text
from bot.jobs import Claimed
from bot.readiness import project_state
from bot.slack import home_blocks as hb
from bot.slack.jobs.context import JobContext
from bot.slack.jobs.delivery import to_slack

PUBLISH = "home.publish"


def publish(ctx: JobContext, job: Claimed) -> None:
    user_id = job.payload["user"]
    with ctx.db.session() as session:
        states = [
            project_state(session, p, ctx.checklist)
            for p in projects.user_projects(session, job.team_id, user_id)
        ]
        view = hb.home_view(help_text(), states)
    with to_slack(f"publishing App Home for user {user_id}"):
        ctx.client_for(job.team_id).views_publish(user_id=user_id, view=view.to_dict())


HANDLERS = {PUBLISH: publish}
