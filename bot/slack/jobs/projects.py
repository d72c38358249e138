"""Project work after the ack: `/mlready export` uploads the Markdown report."""

from __future__ import annotations

from bot import project_report, projects
from bot.jobs import Claimed
from bot.slack.jobs.context import JobContext
from bot.slack.jobs.delivery import to_slack

EXPORT = "project.export"


def export(ctx: JobContext, job: Claimed) -> None:
    p = job.payload
    with ctx.db.session() as session:
        project = projects.get_project(session, job.team_id, p["project"])
        if project is None:
            return
        content = project_report.render(session, project, ctx.templates, "md")
        name = project.name
    slug = "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-") or "project"
    what = f"uploading the report to channel {p['channel']}"
    with to_slack(what, p.get("response_url"), "upload the report"):
        ctx.client_for(job.team_id).files_upload_v2(
            channel=p["channel"],
            content=content,
            filename=f"{slug}-readiness.md",
            title=f"Readiness report: {name}",
            initial_comment=f"<@{p['user']}> exported the readiness report.",
        )


HANDLERS = {EXPORT: export}
