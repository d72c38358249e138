"""`/mlready remind ...` and the reminder buttons: Snooze 3 days, Request sign-off."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot import projects, signoffs
from bot.db.models import Project, ReminderDelivery, utcnow
from bot.readiness import project_state
from bot.reminders.delivery import Outcome
from bot.reminders.rules import findings
from bot.reminders.schedule import (
    RemindRequest,
    ScheduleError,
    apply_request,
    next_occurrence,
    parse_remind,
    schedule_of,
)
from bot.slack import blocks as ui
from bot.slack import ids
from bot.slack import project_blocks as pb
from bot.slack import reminder_blocks as rb
from bot.slack.listeners.checklist import ack_no_project, team_of, user_of
from bot.slack.listeners.signoff import send_signoff_request

if TYPE_CHECKING:
    from bot.slack.app import Services

log = logging.getLogger(__name__)

CONFIRMATIONS = {
    "set": "✅ Reminders updated.",
    "off": "🔕 Reminders are off for this project.",
    "snooze": "😴 Reminders snoozed.",
    "timezone": "🌍 Timezone updated.",
    "show": "",
}


def handle_remind_command(
    ack: Ack, command: dict, client: WebClient, args: str, services: Services, respond: Respond
) -> None:
    team_id, channel = command.get("team_id", ""), command.get("channel_id", "")
    user_id = command.get("user_id", "")
    try:
        request = parse_remind(args)
    except ScheduleError as exc:
        ack(response_type="ephemeral", text=str(exc))
        return
    with services.db.session() as session:
        project = projects.channel_project(session, team_id, channel)
        if project is None:
            ack_no_project(ack)
            return
        # The change is stored before Slack hears back; the summary follows from the worker.
        apply_request(session, project, request, user_id)
        project_id = project.id
    job = send_now if request.action == "now" else show_settings
    if services.worker.submit(job, services, team_id, project_id, request, respond):
        ack()
    else:
        ack(response_type="ephemeral", text=CONFIRMATIONS.get(request.action) or "I'm busy; try again soon.")


def show_settings(
    services: Services, team_id: str, project_id: int, request: RemindRequest, respond: Respond
) -> None:
    now = utcnow()
    with services.db.session() as session:
        project = projects.get_project(session, team_id, project_id)
        if project is None:
            return
        services.reminders.learn_timezone(session, project)
        session.flush()
        schedule = schedule_of(session, project)
        state = project_state(session, project, services.checklist)
        open_rules = findings(state, services.checklist, now, services.reminders.grace)
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
            CONFIRMATIONS.get(request.action, ""),
        )
        name = project.name
    respond(response_type="ephemeral", text=f"Reminders for {name}", blocks=ui.to_dicts(blocks))


def _now_reply(outcomes: list[Outcome]) -> str:
    sent = [o for o in outcomes if o.status == "sent"]
    failed = [o for o in outcomes if o.status in ("retry", "failed")]
    if failed:
        return "Slack did not take the reminder just now; I'll retry it shortly."
    if sent:
        rules = sorted({r for o in sent for r in o.rules})
        return f"⏰ Reminder sent ({', '.join(rb.RULE_TITLES[r] for r in rules)})."
    return "Nothing to remind about right now (or a reminder went out this very minute)."


def send_now(
    services: Services, team_id: str, project_id: int, request: RemindRequest, respond: Respond
) -> None:
    outcomes = services.reminders.run_now(project_id, utcnow())
    respond(response_type="ephemeral", text=_now_reply(outcomes))


GONE = "That project is archived or no longer exists."


def _active_project(session: Session, team_id: str, raw_id: object) -> Project | None:
    """The still-active project a button or modal refers to, or None."""
    project = projects.get_project(session, team_id, raw_id) if isinstance(raw_id, int) else None
    return project if project is not None and project.archived_at is None else None


def register(app: App, services: Services) -> None:
    @app.action(ids.REMINDER_SNOOZE)
    def on_snooze(ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        ack()
        value = pb.decode(action.get("value", ""))
        days = value.get("d") if isinstance(value.get("d"), int) and 1 <= value["d"] <= 30 else 3
        team_id, user_id = team_of(body), user_of(body)
        with services.db.session() as session:
            project = _active_project(session, team_id, value.get("p"))
            if project is None:
                respond(response_type="ephemeral", replace_original=False, text=GONE)
                return
            snooze = RemindRequest("snooze", snooze=timedelta(days=days))
            row = apply_request(session, project, snooze, user_id)
            until, name = row.snoozed_until, project.name
        assert until is not None
        respond(
            replace_original=True,
            text=f"😴 <@{user_id}> snoozed reminders for *{ui.escape(name)}* until {pb.slack_date(until)}. "
            "`/mlready remind` shows or changes them.",
        )

    @app.action(ids.REMINDER_SIGNOFF_OPEN)
    def on_signoff_open(ack: Ack, body: dict, action: dict, client: WebClient, respond: Respond) -> None:
        ack()
        project_id = pb.decode(action.get("value", "")).get("p")
        with services.db.session() as session:
            project = _active_project(session, team_of(body), project_id)
            if project is None:
                respond(response_type="ephemeral", replace_original=False, text=GONE)
                return
            view = rb.signoff_request_modal(project.id, project.name)
        client.views_open(trigger_id=body["trigger_id"], view=view.to_dict())

    @app.view(ids.REMINDER_SIGNOFF_MODAL)
    def on_signoff_submit(ack: Ack, body: dict, view: dict, client: WebClient) -> None:
        project_id = pb.decode(view.get("private_metadata", "")).get("p")
        values = view.get("state", {}).get("values", {})
        stakeholder = ((values.get("stakeholder") or {}).get("value") or {}).get("selected_user") or ""
        what = (((values.get("what") or {}).get("value") or {}).get("value") or "").strip()[:500]
        if not stakeholder:
            ack(response_action="errors", errors={"stakeholder": "Pick the stakeholder who signs off."})
            return
        team_id = team_of(body)
        with services.db.session() as session:
            project = _active_project(session, team_id, project_id)
            if project is None:
                ack(response_action="errors", errors={"stakeholder": GONE})
                return
            try:
                signoff = signoffs.request_signoff(session, project, stakeholder, user_of(body), what)
            except signoffs.SignoffError as exc:
                ack(response_action="errors", errors={"stakeholder": str(exc)})
                return
            signoff_id = signoff.id
        ack()
        services.worker.submit(send_signoff_request, services, client, team_id, signoff_id)
