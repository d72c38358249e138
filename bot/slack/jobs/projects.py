"""Project work after the ack: `/mlready export` uploads the Markdown report."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError

from bot import project_report, projects
from bot.jobs import Claimed, RetryLater
from bot.slack.jobs.context import JobContext
from bot.slack.jobs.delivery import send_to_response_url, slack_error, transient

EXPORT = "project.export"


def export(ctx: JobContext, job: Claimed) -> None:
    p = job.payload
    with ctx.db.session() as session:
        project = projects.get_project(session, job.team_id, p["project"])
        if project is None:
            return
        content = project_report.render(session, project, ctx.checklist, "md")
        name = project.name
    slug = "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-") or "project"
    try:
        ctx.client_for(job.team_id).files_upload_v2(
            channel=p["channel"],
            content=content,
            filename=f"{slug}-readiness.md",
            title=f"Readiness report: {name}",
            initial_comment=f"<@{p['user']}> exported the readiness report.",
        )
    except SlackApiError as exc:
        if transient(exc):
            raise RetryLater(f"uploading the report to channel {p['channel']}: {slack_error(exc)}") from exc
        send_to_response_url(
            p["response_url"],
            {
                "response_type": "ephemeral",
                "text": f"I could not upload the report ({slack_error(exc)}). "
                "Invite me with `/invite @mlready` and retry.",
            },
            f"telling the user in channel {p['channel']}",
        )


HANDLERS = {EXPORT: export}
