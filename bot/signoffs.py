"""Stakeholder sign-off of a project's objectives and KPIs. No Slack imports here."""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy.orm import Session

from bot.db.models import Project, Signoff, utcnow

USER_MENTION_RE = re.compile(r"^<@([UW][A-Z0-9]{1,31})(?:\|[^>]*)?>\s*(.*)$", re.DOTALL)


class SignoffError(ValueError):
    pass


def _plain(text: str) -> str:
    """Without control characters (PostgreSQL cannot store NUL); line breaks and tabs stay."""
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")


def parse_request(args: str) -> tuple[str, str]:
    """`<@U123|dana> the Q3 objectives` -> ("U123", "the Q3 objectives")."""
    match = USER_MENTION_RE.match(args.strip())
    if not match:
        raise SignoffError(
            "Name the stakeholder with an @-mention, e.g. "
            "`/mlready signoff @dana objectives and KPIs for Q3`."
        )
    return match.group(1), " ".join(match.group(2).split())[:500]


def request_signoff(
    session: Session, project: Project, stakeholder_id: str, requested_by: str, what: str
) -> Signoff:
    if project.archived_at is not None:
        raise SignoffError(f"The project *{project.name}* is archived.")
    signoff = Signoff(
        project_id=project.id,
        stakeholder_id=stakeholder_id,
        requested_by=requested_by,
        what=_plain(what).strip() or "objectives and KPIs",
        status="requested",
        comment="",
        kpi_version=project.kpi_version,
        requested_at=utcnow(),
        dm_channel="",
        dm_ts="",
    )
    session.add(signoff)
    session.flush()
    return signoff


def decide(
    session: Session, signoff: Signoff, project: Project, user_id: str, approve: bool, comment: str = ""
) -> Signoff:
    """Only the named stakeholder decides, once, while the request is open."""
    if user_id != signoff.stakeholder_id:
        raise SignoffError(f"Only <@{signoff.stakeholder_id}> can answer this sign-off request.")
    if project.archived_at is not None:
        raise SignoffError(f"The project *{project.name}* is archived.")
    if signoff.status != "requested":
        raise SignoffError(f"This request was already answered ({signoff.status}).")
    comment = _plain(comment)
    if not approve and not comment.strip():
        raise SignoffError("Say what should change, so the team can act on it.")
    signoff.status = "approved" if approve else "changes-requested"
    signoff.comment = comment.strip()[:2000]
    signoff.decided_at = utcnow()
    # Approval covers the KPIs as they are now.
    signoff.kpi_version = project.kpi_version
    session.flush()
    return signoff


def revoke(session: Session, signoff: Signoff, project: Project, user_id: str) -> Signoff:
    """The stakeholder withdraws an approval they gave."""
    if user_id != signoff.stakeholder_id:
        raise SignoffError(f"Only <@{signoff.stakeholder_id}> can revoke this sign-off.")
    if signoff.status != "approved":
        raise SignoffError(f"Only an approval can be revoked; this request is {signoff.status}.")
    signoff.status = "revoked"
    signoff.decided_at = utcnow()
    session.flush()
    return signoff
