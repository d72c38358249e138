"""`mlready feedback report`: what the knowledge base failed to answer well, most frequent first."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import AnswerFeedback, AnswerRecord, utcnow


@dataclass
class ReportRow:
    question: str
    count: int = 0
    declined: int = 0
    not_helpful: int = 0
    last_asked: datetime | None = None
    sources: list[str] = field(default_factory=list)


def _normalize(question: str) -> str:
    return re.sub(r"[^a-z0-9 ]+", "", " ".join(question.lower().split()))[:300]


def _aware(moment: datetime) -> datetime:
    from datetime import UTC

    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def build_report(session: Session, since_days: int | None = None) -> list[ReportRow]:
    since = utcnow() - timedelta(days=since_days) if since_days else None
    query = select(AnswerRecord)
    if since is not None:
        query = query.where(AnswerRecord.created_at >= since)
    unhelpful = set(
        session.scalars(select(AnswerFeedback.answer_id).where(AnswerFeedback.helpful.is_(False)))
    )
    rows: dict[str, ReportRow] = {}
    for record in session.scalars(query.order_by(AnswerRecord.created_at)):
        bad_feedback = record.id in unhelpful
        if record.answered and not bad_feedback:
            continue
        row = rows.setdefault(_normalize(record.question), ReportRow(record.question[:300]))
        row.count += 1
        row.declined += not record.answered
        row.not_helpful += bad_feedback
        row.last_asked = _aware(record.created_at)
        for source in record.sources:
            label = source["title"] + (f" — {source['section']}" if source.get("section") else "")
            if label not in row.sources:
                row.sources.append(label)
    return sorted(rows.values(), key=lambda r: (-r.count, r.question))


def to_markdown(rows: list[ReportRow], since_days: int | None) -> str:
    window = f"the last {since_days} days" if since_days else "all time"
    lines = [f"# Questions mlready did not answer well ({window})", ""]
    if not rows:
        return "\n".join([*lines, "Nothing was declined or marked not helpful.", ""])
    lines += [
        "| # | Question | Asked | Declined | Not helpful | Sources shown |",
        "|---|---|---|---|---|---|",
    ]
    for i, r in enumerate(rows, 1):
        question = r.question.replace("|", "\\|")
        shown = "; ".join(r.sources).replace("|", "\\|") or "none"
        lines.append(f"| {i} | {question} | {r.count} | {r.declined} | {r.not_helpful} | {shown} |")
    return "\n".join([*lines, ""])


def to_csv(rows: list[ReportRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["question", "asked", "declined", "not_helpful", "last_asked", "sources"])
    for r in rows:
        writer.writerow(
            [
                r.question,
                r.count,
                r.declined,
                r.not_helpful,
                r.last_asked.isoformat() if r.last_asked else "",
                "; ".join(r.sources),
            ]
        )
    return out.getvalue()
