"""`/mlready checklist`: responding to items, moving between sections, "Why it matters", KPIs,
and each item's note / link and assignee.

Each listener parses the request, calls the domain, stores any follow-up job in the same
transaction, then acks; the rendering happens in bot/slack/jobs/checklist.py.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot import projects
from bot.checklist import Checklist
from bot.db.models import ItemAssignment, ItemEvidence, Project
from bot.evidence import assign, parse_assignment, parse_evidence, set_evidence
from bot.readiness import ResponseError, add_kpi, parse_kpi, record_response
from bot.slack import action_values as av
from bot.slack import blocks as ui
from bot.slack import checklist_blocks as cb
from bot.slack import ids
from bot.slack.jobs import checklist as checklist_jobs
from bot.slack.jobs import replies
from bot.slack.request_context import ack_no_project, message_of, modal_field, team_of, user_of

if TYPE_CHECKING:
    from bot.slack.services import Services

log = logging.getLogger(__name__)

UNKNOWN_PROJECT = (
    "That checklist belongs to a project I can't find in this workspace. "
    "Run `/mlready checklist` for a fresh one."
)
KPI_FIELDS = {
    "metric": "metric",
    "baseline": "baseline",
    "target": "target",
    "unit": "unit",
    "deadline": "deadline",
    "owner_id": "owner",
}


def active_project(
    session: Session, body: dict, value: av.ProjectRef | None
) -> tuple[Project | None, str | None]:
    """The project a button names, in the clicker's workspace, of the channel the button is in
    (when it is in a channel rather than a DM or App Home), and still open; else why not."""
    project = projects.get_project(session, team_of(body), value.project) if value is not None else None
    channel, _ = message_of(body)
    if project is None or (channel[:1] in ("C", "G") and project.channel_id != channel):
        return None, UNKNOWN_PROJECT
    if project.archived_at is not None:
        return None, f"The project *{ui.escape(project.name)}* is archived; its checklist is closed."
    return project, None


def _private(respond: Respond, text: str) -> None:
    respond(response_type="ephemeral", replace_original=False, text=text)


def queue_render(
    services: Services, session: Session, team_id: str, project_id: int, channel: str, ts: str, category: str
) -> None:
    if channel and ts:
        services.outbox.add(
            session,
            checklist_jobs.RENDER,
            team_id,
            {"project": project_id, "channel": channel, "ts": ts, "category": category},
            coalesce_key=checklist_jobs.render_key(channel, ts),
        )


def handle_checklist_command(
    ack: Ack, command: dict, client: WebClient, args: str, services: Services, respond: Respond
) -> None:
    team_id, channel = command.get("team_id", ""), command.get("channel_id", "")
    with services.db.session() as session:
        project = projects.channel_project(session, team_id, channel)
        checklist = (
            services.templates.checklist_for(session, project) if project else services.templates.default
        )
        category = args.strip().lower() or checklist.sections[0].category
        if checklist.section(category) is None:
            known = ", ".join(s.category for s in checklist.sections)
            ack(
                response_type="ephemeral",
                text=f"There is no checklist section `{ui.escape(category[:40])}`. Sections: {known}.",
            )
            return
        if project is not None:
            services.outbox.add(
                session,
                checklist_jobs.POST,
                team_id,
                {"channel": channel, "category": category, "response_url": command.get("response_url")},
            )
    if project is None:
        ack_no_project(ack)
        return
    ack()


def on_response(services: Services, ack: Ack, body: dict, action: dict, respond: Respond) -> None:
    value = av.ChecklistResponse.parse(action.get("value"))
    channel, ts = message_of(body)
    error = None
    try:
        with services.db.session() as session:
            project, error = active_project(session, body, value)
            if project is not None and value is not None:
                checklist = services.templates.checklist_for(session, project)
                record_response(session, project, checklist, value.item, value.response, user_of(body))
                queue_render(
                    services, session, project.team_id, project.id, channel, ts, value.item.split(".")[0]
                )
    except ResponseError as exc:
        error = str(exc)
    ack()  # the click and its render job are stored before Slack hears back
    if error:
        _private(respond, error)


def on_page(services: Services, ack: Ack, body: dict, action: dict, respond: Respond) -> None:
    value = av.ChecklistPage.parse(action.get("value"))
    channel, ts = message_of(body)
    with services.db.session() as session:
        project, error = active_project(session, body, value)
        if (
            project is not None
            and value is not None
            and services.templates.checklist_for(session, project).section(value.category)
        ):
            queue_render(services, session, project.team_id, project.id, channel, ts, value.category)
    ack()
    if error:
        _private(respond, error)


def on_why(services: Services, ack: Ack, body: dict, action: dict, respond: Respond) -> None:
    ack()
    value = av.ChecklistItemRef.parse(action.get("value"))
    with services.db.session() as session:
        project, error = active_project(session, body, value)
        item = (
            services.templates.checklist_for(session, project).item(value.item) if project and value else None
        )
    if error or value is None:
        _private(respond, error or UNKNOWN_PROJECT)
        return
    if item is None:
        _private(respond, "That checklist item no longer exists.")
        return
    respond(
        response_type="ephemeral",
        replace_original=False,
        text=f"Why it matters: {ui.escape(item.question)}",
        blocks=ui.to_dicts(
            cb.guidance_blocks(item, [services.docs[d] for d in item.docs if d in services.docs])
        ),
    )


def on_kpi_open(
    services: Services, ack: Ack, body: dict, action: dict, client: WebClient, respond: Respond
) -> None:
    ack()
    value = av.KpiOpen.parse(action.get("value"))
    with services.db.session() as session:
        project, error = active_project(session, body, value)
    if project is None or value is None:
        _private(respond, error or UNKNOWN_PROJECT)
        return
    # Only a checklist message is re-rendered after saving; a Q&A answer message stays as it is.
    channel, ts = message_of(body) if value.from_checklist else ("", "")
    # A trigger id is valid for 3 s only, so the modal opens here rather than in a job.
    client.views_open(trigger_id=body["trigger_id"], view=cb.kpi_modal(project, channel, ts).to_dict())


def on_kpi_submit(services: Services, ack: Ack, body: dict, view: dict) -> None:
    meta = av.KpiModal.parse(view.get("private_metadata"))
    kpi, errors = parse_kpi(
        {key: modal_field(view, block) for key, block in KPI_FIELDS.items()}, date.today()
    )
    if kpi is None:
        # Errors go next to the modal's blocks; the owner's block is "owner".
        ack(response_action="errors", errors={k.removesuffix("_id"): v for k, v in errors.items()})
        return
    user_id = user_of(body)
    with services.db.session() as session:
        project, _ = active_project(session, body, meta)
        if project is None:
            ack(response_action="errors", errors={"metric": "This project is archived or no longer exists."})
            return
        add_kpi(session, project, kpi, user_id)
        text = f"📈 <@{user_id}> recorded the KPI {ui.kpi_text(kpi)}"
        services.outbox.add(
            session, replies.POST, project.team_id, {"channel": project.channel_id, "text": text}
        )
        if meta is not None and meta.channel and meta.ts:
            queue_render(services, session, project.team_id, project.id, meta.channel, meta.ts, "kpis")
    ack()


def _open_item_modal(
    services: Services, ack: Ack, body: dict, action: dict, client: WebClient, respond: Respond, kind: str
) -> None:
    ack()
    value = av.ChecklistItemRef.parse(action.get("value"))
    with services.db.session() as session:
        project, error = active_project(session, body, value)
        if project is None or value is None:
            _private(respond, error or UNKNOWN_PROJECT)
            return
        item = services.templates.checklist_for(session, project).item(value.item)
        if item is None:
            _private(respond, "That checklist item is not part of this project's checklist any more.")
            return
        channel, ts = message_of(body)
        if kind == ids.EVIDENCE_MODAL:
            evidence = session.get(ItemEvidence, (project.id, item.id))
            view = cb.evidence_modal(project, item, evidence, channel, ts)
        else:
            assignment = session.get(ItemAssignment, (project.id, item.id))
            view = cb.assign_modal(project, item, assignment, channel, ts)
    # A trigger id is valid for 3 s only, so the modal opens here rather than in a job.
    client.views_open(trigger_id=body["trigger_id"], view=view.to_dict())


def _submit_item_modal(
    services: Services,
    ack: Ack,
    body: dict,
    view: dict,
    first_field: str,
    parsed: object | None,
    errors: dict[str, str],
    save: Callable[[Session, Project, Checklist, av.ItemModal], None],
) -> None:
    """The note / link and Assign modals: check where they came from, save, re-render the
    checklist message, then ack; every refusal is shown in the modal."""
    meta = av.ItemModal.parse(view.get("private_metadata"))
    if parsed is None or meta is None:
        ack(response_action="errors", errors=errors or {first_field: UNKNOWN_PROJECT})
        return
    try:
        with services.db.session() as session:
            project, problem = active_project(session, body, meta)
            if project is None:
                ack(response_action="errors", errors={first_field: problem or UNKNOWN_PROJECT})
                return
            save(session, project, services.templates.checklist_for(session, project), meta)
            channel, ts, category = meta.channel or "", meta.ts or "", meta.item.split(".")[0]
            queue_render(services, session, project.team_id, project.id, channel, ts, category)
    except ResponseError as exc:
        ack(response_action="errors", errors={first_field: str(exc)})
        return
    ack()


def on_evidence_submit(services: Services, ack: Ack, body: dict, view: dict) -> None:
    evidence, errors = parse_evidence({key: modal_field(view, key) for key in ("note", "url")})

    def save(session: Session, project: Project, checklist: Checklist, meta: av.ItemModal) -> None:
        assert evidence is not None
        set_evidence(session, project, checklist, meta.item, evidence, user_of(body))

    _submit_item_modal(services, ack, body, view, "note", evidence, errors, save)


def on_assign_submit(services: Services, ack: Ack, body: dict, view: dict) -> None:
    assignment, errors = parse_assignment(
        {key: modal_field(view, key) for key in ("assignee", "due")}, date.today()
    )

    def save(session: Session, project: Project, checklist: Checklist, meta: av.ItemModal) -> None:
        assert assignment is not None
        row, new_person = assign(session, project, checklist, meta.item, assignment, user_of(body))
        if row is not None and new_person:  # told once, by a job stored with the assignment
            services.outbox.add(
                session,
                checklist_jobs.ASSIGNED,
                project.team_id,
                {"project": project.id, "item": meta.item, "assignee": row.assignee_id},
            )

    _submit_item_modal(services, ack, body, view, "assignee", assignment, errors, save)


def register(app: App, services: Services) -> None:
    services.subcommands["checklist"] = handle_checklist_command

    # Bolt passes arguments by name, so each wrapper names exactly what its listener needs.
    @app.action(re.compile(f"^{ids.CHECKLIST_RESPONSE}_"))
    def response(ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        on_response(services, ack, body, action, respond)

    @app.action(re.compile(f"^{ids.CHECKLIST_PAGE}_"))
    def page(ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        on_page(services, ack, body, action, respond)

    @app.action(ids.CHECKLIST_WHY)
    def why(ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        on_why(services, ack, body, action, respond)

    @app.action(ids.KPI_OPEN)
    def kpi_open(ack: Ack, body: dict, action: dict, client: WebClient, respond: Respond) -> None:
        on_kpi_open(services, ack, body, action, client, respond)

    @app.action(ids.EVIDENCE_OPEN)
    def evidence_open(ack: Ack, body: dict, action: dict, client: WebClient, respond: Respond) -> None:
        _open_item_modal(services, ack, body, action, client, respond, ids.EVIDENCE_MODAL)

    @app.view(ids.EVIDENCE_MODAL)
    def evidence_submit(ack: Ack, body: dict, view: dict) -> None:
        on_evidence_submit(services, ack, body, view)

    @app.action(ids.ASSIGN_OPEN)
    def assign_open(ack: Ack, body: dict, action: dict, client: WebClient, respond: Respond) -> None:
        _open_item_modal(services, ack, body, action, client, respond, ids.ASSIGN_MODAL)

    @app.view(ids.ASSIGN_MODAL)
    def assign_submit(ack: Ack, body: dict, view: dict) -> None:
        on_assign_submit(services, ack, body, view)

    @app.view(ids.KPI_MODAL)
    def kpi_submit(ack: Ack, body: dict, view: dict) -> None:
        on_kpi_submit(services, ack, body, view)
