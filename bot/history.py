"""What the bot has done: answers given, feedback on them, events and threads handled."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.answers import Answer
from bot.db.models import AnsweredThread, AnswerFeedback, AnswerRecord, ProcessedEvent, utcnow
from bot.db.session import dialect_insert


def claim_event(session: Session, event_id: str, team_id: str) -> bool:
    """True the first time an event id is seen; False for a retried delivery."""
    stmt = (
        dialect_insert(session, ProcessedEvent)
        .values(event_id=event_id, team_id=team_id, received_at=utcnow())
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(ProcessedEvent.event_id)
    )
    return session.execute(stmt).first() is not None


def event_id_of(body: dict) -> str | None:
    """The event id of an Events API delivery; Slack's are short, anything else is junk."""
    event_id = body.get("event_id") if body.get("type") == "event_callback" else None
    return event_id if isinstance(event_id, str) and 0 < len(event_id) <= 64 else None


def remember_thread(session: Session, team_id: str, channel_id: str, thread_ts: str) -> None:
    stmt = (
        dialect_insert(session, AnsweredThread)
        .values(team_id=team_id, channel_id=channel_id, thread_ts=thread_ts, created_at=utcnow())
        .on_conflict_do_nothing()
    )
    session.execute(stmt)


def is_answered_thread(session: Session, team_id: str, channel_id: str, thread_ts: str) -> bool:
    return session.get(AnsweredThread, (team_id, channel_id, thread_ts)) is not None


def record_answer(
    session: Session,
    answer: Answer,
    *,
    team_id: str,
    channel_id: str,
    user_id: str,
    surface: str,
    job_id: int | None = None,
) -> AnswerRecord:
    record = AnswerRecord(
        job_id=job_id,
        team_id=team_id,
        channel_id=channel_id,
        user_id=user_id,
        surface=surface,
        question=answer.question.replace("\x00", "")[:4000],  # PostgreSQL text cannot hold NUL
        answered=answer.answered,
        confidence=answer.confidence,
        answer=answer.answer,
        sources=[s.to_dict() for s in answer.sources]
        or [
            {"title": t, "section": "", "doc_id": "", "category": "", "score": 0.0}
            for t in answer.closest_topics
        ],
        created_at=utcnow(),
    )
    session.add(record)
    session.flush()
    return record


def answer_of_job(session: Session, job_id: int) -> AnswerRecord | None:
    """The answer a job already stored, if it ran before (and died before it finished)."""
    return session.scalar(select(AnswerRecord).where(AnswerRecord.job_id == job_id))


def get_answer(session: Session, answer_id: int, team_id: str) -> AnswerRecord | None:
    record = session.get(AnswerRecord, answer_id)
    return record if record is not None and record.team_id == team_id else None


def record_feedback(session: Session, answer_id: int, team_id: str, user_id: str, helpful: bool) -> bool:
    """Store (or change) a user's vote; False when the answer is unknown to this workspace."""
    if get_answer(session, answer_id, team_id) is None:
        return False
    existing = session.get(AnswerFeedback, (answer_id, user_id))
    if existing is None:
        session.add(
            AnswerFeedback(answer_id=answer_id, user_id=user_id, helpful=helpful, created_at=utcnow())
        )
    else:
        existing.helpful = helpful
        existing.created_at = utcnow()
    return True


def feedback_for(session: Session, answer_id: int) -> list[AnswerFeedback]:
    return list(session.scalars(select(AnswerFeedback).where(AnswerFeedback.answer_id == answer_id)))
