"""`/mlready remind ...` and the reminder buttons: Snooze 3 days, Request sign-off."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot import projects, signoffs
from bot.db.models import Project
from bot.reminders.schedule import RemindRequest, ScheduleError, apply_request, parse_remind
from bot.slack import action_values as av
from bot.slack import blocks as ui
from bot.slack import ids
from bot.slack import reminder_blocks as rb
from bot.slack.jobs import reminders as reminder_jobs
from bot.slack.jobs import replies
from bot.slack.jobs import signoff as signoff_jobs
from bot.slack.request_context import ack_no_project, modal_field, team_of, user_of

if TYPE_CHECKING:
    from bot.slack.services import Services

log = logging.getLogger(__name__)


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
        # The change and the job that shows its result are stored before Slack hears back.
        apply_request(session, project, request, user_id)
        services.outbox.add(
            session,
            reminder_jobs.NOW if request.action == "now" else reminder_jobs.SHOW,
            team_id,
            {"project": project.id, "action": request.action, "response_url": command.get("response_url")},
        )
    ack()


GONE = "That project is archived or no longer exists."


def _active_project(session: Session, team_id: str, ref: av.ProjectRef | None) -> Project | None:
    """The still-active project a button or modal refers to, or None."""
    project = projects.get_project(session, team_id, ref.project) if ref is not None else None
    return project if project is not None and project.archived_at is None else None


def on_snooze(services: Services, ack: Ack, body: dict, action: dict, respond: Respond) -> None:
    value = av.Snooze.parse(action.get("value"))
    team_id, user_id = team_of(body), user_of(body)
    with services.db.session() as session:
        project = _active_project(session, team_id, value)
        if project is not None and value is not None and body.get("response_url"):
            snooze = RemindRequest("snooze", snooze=timedelta(days=value.days))
            until = apply_request(session, project, snooze, user_id).snoozed_until
            assert until is not None
            text = (
                f"😴 <@{user_id}> snoozed reminders for *{ui.escape(project.name)}* until "
                f"{ui.slack_date(until)}. `/mlready remind` shows or changes them."
            )
            message = {"replace_original": True, "text": text}
            services.outbox.add(
                session, replies.RESPOND, team_id, {"response_url": body["response_url"], "message": message}
            )
            gone = False
        else:
            gone = True
    ack()
    if gone:
        respond(response_type="ephemeral", replace_original=False, text=GONE)


def on_signoff_open(
    services: Services, ack: Ack, body: dict, action: dict, client: WebClient, respond: Respond
) -> None:
    ack()
    with services.db.session() as session:
        project = _active_project(session, team_of(body), av.ProjectRef.parse(action.get("value")))
        view = rb.signoff_request_modal(project.id, project.name) if project is not None else None
    if view is None:
        respond(response_type="ephemeral", replace_original=False, text=GONE)
        return
    # A trigger id is valid for 3 s only, so the modal opens here rather than in a job.
    client.views_open(trigger_id=body["trigger_id"], view=view.to_dict())


def on_signoff_submit(services: Services, ack: Ack, body: dict, view: dict) -> None:
    stakeholder = modal_field(view, "stakeholder") or ""
    what = (modal_field(view, "what") or "").strip()[:500]
    if not stakeholder:
        ack(response_action="errors", errors={"stakeholder": "Pick the stakeholder who signs off."})
        return
    team_id = team_of(body)
    with services.db.session() as session:
        project = _active_project(session, team_id, av.ProjectRef.parse(view.get("private_metadata")))
        if project is None:
            ack(response_action="errors", errors={"stakeholder": GONE})
            return
        try:
            signoff, _ = signoffs.request_signoff(session, project, stakeholder, user_of(body), what)
        except signoffs.SignoffError as exc:
            ack(response_action="errors", errors={"stakeholder": str(exc)})
            return
        services.outbox.add(session, signoff_jobs.REQUEST, team_id, {"signoff": signoff.id})
    ack()


def register(app: App, services: Services) -> None:
    services.subcommands["remind"] = handle_remind_command

    @app.action(ids.REMINDER_SNOOZE)
    def snooze(ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        on_snooze(services, ack, body, action, respond)

    @app.action(ids.REMINDER_SIGNOFF_OPEN)
    def signoff_open(ack: Ack, body: dict, action: dict, client: WebClient, respond: Respond) -> None:
        on_signoff_open(services, ack, body, action, client, respond)

    @app.view(ids.REMINDER_SIGNOFF_MODAL)
    def signoff_submit(ack: Ack, body: dict, view: dict) -> None:
        on_signoff_submit(services, ack, body, view)
