"""Reminder work after the ack: show a project's reminder settings, or send its reminder now."""

from __future__ import annotations

from sqlalchemy import func, select

from bot import projects
from bot.db.models import ReminderDelivery, utcnow
from bot.jobs import Claimed
from bot.readiness import project_state
from bot.reminders.delivery import Outcome
from bot.reminders.rules import findings
from bot.reminders.schedule import next_occurrence, schedule_of
from bot.slack import blocks as ui
from bot.slack import reminder_blocks as rb
from bot.slack.jobs.context import JobContext
from bot.slack.jobs.delivery import send_to_response_url

SHOW = "remind.show"
NOW = "remind.now"

CONFIRMATIONS = {
    "set": "✅ Reminders updated.",
    "off": "🔕 Reminders are off for this project.",
    "snooze": "😴 Reminders snoozed.",
    "timezone": "🌍 Timezone updated.",
    "show": "",
}


def show_settings(ctx: JobContext, job: Claimed) -> None:
    p = job.payload
    now = utcnow()
    with ctx.db.session() as session:
        project = projects.get_project(session, job.team_id, p["project"])
        if project is None:
            return
        ctx.reminders.learn_timezone(session, project)
        session.flush()
        schedule = schedule_of(session, project)
        state = project_state(session, project, ctx.templates)
        open_rules = findings(state, now, ctx.reminders.grace)
        last_sent = session.scalar(
            select(func.max(ReminderDelivery.sent_at)).where(
                ReminderDelivery.project_id == project.id, ReminderDelivery.status == "sent"
            )
        )
        blocks = rb.settings_blocks(
            project.name,
            schedule,
            next_occurrence(schedule, now),
            open_rules,
            last_sent,
            CONFIRMATIONS.get(p["action"], ""),
        )
        name = project.name
    send_to_response_url(
        p["response_url"],
        {
            "response_type": "ephemeral",
            "text": f"Reminders for {ui.escape(name)}",
            "blocks": ui.to_dicts(blocks),
        },
        f"reminder settings for project {p['project']}",
    )


def now_reply(outcomes: list[Outcome]) -> str:
    sent = [o for o in outcomes if o.status == "sent"]
    failed = [o for o in outcomes if o.status in ("retry", "failed")]
    if failed:
        return "Slack did not take the reminder just now; I'll retry it shortly."
    if sent:
        rules = sorted({r for o in sent for r in o.rules})
        return f"⏰ Reminder sent ({', '.join(rb.RULE_TITLES[r] for r in rules)})."
    return "Nothing to remind about right now (or a reminder went out this very minute)."


def send_now(ctx: JobContext, job: Claimed) -> None:
    outcomes = ctx.reminders.run_now(job.payload["project"], utcnow())
    send_to_response_url(
        job.payload["response_url"],
        {"response_type": "ephemeral", "text": now_reply(outcomes)},
        f"the reminder-now reply for project {job.payload['project']}",
    )


HANDLERS = {SHOW: show_settings, NOW: send_now}
