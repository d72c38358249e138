"""Stakeholder sign-off of a project's objectives and KPIs. No Slack imports here."""

from __future__ import annotations

import re

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.command_grammar import plain_text
from bot.db.models import Project, Signoff, utcnow
from bot.text import escape_mrkdwn, is_user_id, without_unsafe_characters

USER_MENTION_RE = re.compile(r"^<@([UW][A-Z0-9]{1,31})(?:\|[^>]*)?>\s*(.*)$", re.DOTALL)
# An @name Slack did not turn into a mention (it matches no one in the workspace).
PLAIN_NAME_RE = re.compile(r"^@(\S+)")


class SignoffError(ValueError):
    pass


def parse_request(args: str) -> tuple[str, str]:
    """`<@U123|dana> the Q3 objectives` (as Slack sends an escaped command) ->
    ("U123", "the Q3 objectives")."""
    match = USER_MENTION_RE.match(args.strip())
    if not match:
        plain = PLAIN_NAME_RE.match(plain_text(args.strip()))
        if plain:
            raise SignoffError(
                f"I can't find anyone called @{plain.group(1)[:40]} in this workspace. Type @ and pick "
                "the stakeholder from Slack's list, so the name becomes a mention."
            )
        raise SignoffError(
            "Name the stakeholder with an @-mention, e.g. "
            "`/mlready signoff @dana objectives and KPIs for Q3`."
        )
    return match.group(1), " ".join(plain_text(match.group(2)).split())[:500]


def pending_request(session: Session, project: Project) -> Signoff | None:
    return session.scalars(
        select(Signoff)
        .where(Signoff.project_id == project.id, Signoff.status == "requested")
        .order_by(Signoff.id.desc())
    ).first()


def request_signoff(
    session: Session, project: Project, stakeholder_id: str, requested_by: str, what: str
) -> tuple[Signoff, Signoff | None]:
    """A new request, and the waiting one it replaced (withdrawn), if any.

    Nobody signs off their own request, and a waiting request is replaced only by the person
    who sent it or the project's owner, so that nobody else's decision is taken away."""
    if project.archived_at is not None:
        raise SignoffError(f"The project *{escape_mrkdwn(project.name)}* is archived.")
    if not is_user_id(stakeholder_id):
        raise SignoffError("Pick the stakeholder from the list of people in this workspace.")
    if stakeholder_id == requested_by:
        raise SignoffError(
            "You can't sign off a request of your own; name the stakeholder who decides "
            "(the sponsor or the business owner)."
        )
    pending = pending_request(session, project)
    if pending is not None:
        if requested_by not in (pending.requested_by, project.owner_id):
            raise SignoffError(
                f"A sign-off request to <@{pending.stakeholder_id}> is still waiting for an answer. "
                f"Only <@{pending.requested_by}> (who sent it) or the project owner "
                f"<@{project.owner_id}> can replace it."
            )
        withdrawn = session.execute(
            update(Signoff)
            .where(Signoff.id == pending.id, Signoff.status == "requested")
            .values(status="withdrawn", decided_at=utcnow())
        )
        if withdrawn.rowcount != 1:  # type: ignore[attr-defined]
            raise SignoffError("That request was answered a moment ago; run `/mlready status` to see it.")
        session.refresh(pending)
    signoff = Signoff(
        project_id=project.id,
        stakeholder_id=stakeholder_id,
        requested_by=requested_by,
        what=without_unsafe_characters(what).strip() or "objectives and KPIs",
        status="requested",
        comment="",
        kpi_version=project.kpi_version,
        requested_at=utcnow(),
        dm_channel="",
        dm_ts="",
    )
    session.add(signoff)
    session.flush()
    return signoff, pending


def decide(
    session: Session, signoff: Signoff, project: Project, user_id: str, approve: bool, comment: str = ""
) -> Signoff:
    """Only the named stakeholder decides, once, while the request is open. The decision is a
    conditional update, so of two clicks at the same moment exactly one wins."""
    if user_id != signoff.stakeholder_id:
        raise SignoffError(f"Only <@{signoff.stakeholder_id}> can answer this sign-off request.")
    if project.archived_at is not None:
        raise SignoffError(f"The project *{escape_mrkdwn(project.name)}* is archived.")
    comment = without_unsafe_characters(comment)
    if not approve and not comment.strip():
        raise SignoffError("Say what should change, so the team can act on it.")
    _transition(
        session,
        signoff,
        "requested",
        status="approved" if approve else "changes-requested",
        comment=comment.strip()[:2000],
        decided_at=utcnow(),
        kpi_version=project.kpi_version,  # approval covers the KPIs as they are now
    )
    return signoff


def _transition(session: Session, signoff: Signoff, expected: str, **values: object) -> None:
    """Set `values` only while the request is still `expected`; otherwise say what it is now."""
    done = session.execute(
        update(Signoff).where(Signoff.id == signoff.id, Signoff.status == expected).values(**values)
    )
    session.refresh(signoff)
    if done.rowcount != 1:  # type: ignore[attr-defined]
        if signoff.status == "withdrawn":
            raise SignoffError("This request was withdrawn; a newer one replaced it.")
        raise SignoffError(f"This request was already answered ({signoff.status}).")


def revoke(session: Session, signoff: Signoff, project: Project, user_id: str) -> Signoff:
    """The stakeholder withdraws an approval they gave."""
    if user_id != signoff.stakeholder_id:
        raise SignoffError(f"Only <@{signoff.stakeholder_id}> can revoke this sign-off.")
    if signoff.status != "approved":
        raise SignoffError(f"Only an approval can be revoked; this request is {signoff.status}.")
    _transition(session, signoff, "approved", status="revoked", decided_at=utcnow())
    return signoff
