"""Answer work after the ack: answer a question, and share an answer in the channel."""

from __future__ import annotations

from bot import history
from bot.answers import Answer, GuideLink, Source
from bot.db.models import AnswerRecord
from bot.jobs import Claimed
from bot.slack import blocks as ui
from bot.slack.jobs.context import JobContext
from bot.slack.jobs.delivery import send_to_response_url, to_slack

SHARE = "answer.share"


def rebuild(record: AnswerRecord) -> Answer:
    """The stored answer as shown, with its guide buttons: the first guide it cites leads and
    the others are related."""
    sources = [
        Source(s["doc_id"], s["title"], s["section"], s["category"], s["score"])
        for s in record.sources
        if s.get("doc_id")
    ]
    guides = list(dict.fromkeys((s.doc_id, s.title) for s in sources))
    return Answer(
        record.question,
        record.answered,
        record.confidence,
        record.answer,
        sources,
        guide=guides[0][0] if guides and record.answered else None,
        related=[GuideLink(d, t) for d, t in guides[1:3]] if record.answered else [],
    )


def share(ctx: JobContext, job: Claimed) -> None:
    p = job.payload
    with ctx.db.session() as session:
        record = history.get_answer(session, p["answer_id"], job.team_id)
        answer = rebuild(record) if record else None
    if answer is None:
        return
    with to_slack(f"sharing answer {p['answer_id']} in channel {p['channel']}"):
        ctx.client_for(job.team_id).chat_postMessage(
            channel=p["channel"],
            text=ui.fallback_text(answer),
            blocks=ui.to_dicts(ui.answer_blocks(answer, p["answer_id"], shared_by=p["user"])),
        )
    send_to_response_url(p["response_url"], {"delete_original": True}, "removing the private answer")


HANDLERS = {SHARE: share}
