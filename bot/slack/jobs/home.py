"""App Home: the user's projects with their scores and open blocking gaps, and how to use mlready;
for workspace admins and owners, every project of the workspace too."""

from __future__ import annotations

from bot import projects
from bot.command_grammar import help_text
from bot.jobs import Claimed
from bot.portfolio import portfolio
from bot.readiness import project_state
from bot.slack import home_blocks as hb
from bot.slack.jobs.context import JobContext
from bot.slack.jobs.delivery import to_slack

PUBLISH = "home.publish"


def publish(ctx: JobContext, job: Claimed) -> None:
    user_id = job.payload["user"]
    client = ctx.client_for(job.team_id)
    admin = False
    with to_slack(f"looking up whether {user_id} is a workspace admin"):
        profile = client.users_info(user=user_id).get("user") or {}
        admin = bool(profile.get("is_admin") or profile.get("is_owner"))
    with ctx.db.session() as session:
        states = [
            project_state(session, p, ctx.templates)
            for p in projects.user_projects(session, job.team_id, user_id)
        ]
        overview = portfolio(session, job.team_id, ctx.templates) if admin else None
        view = hb.home_view(help_text(), user_id, states, overview, ctx.doc_titles)
    with to_slack(f"publishing App Home for user {user_id}"):
        client.views_publish(user_id=user_id, view=view.to_dict())


HANDLERS = {PUBLISH: publish}
