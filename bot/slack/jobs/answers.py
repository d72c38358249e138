"""Answer work after the ack: answer a question and deliver it, share an answer in the channel.

A question is a durable job, never on the ack path: it is stored before the ack (see
bot/jobs.py); the job computes the answer, stores it once (keyed by the job, so a job run
again after a crash finds it), then posts it. When the database or Slack is away, the job
is tried again with a growing pause for up to `RETRY_WINDOW` seconds after the question
arrived, in this replica or another.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.webhook import WebhookClient

from bot import history, metrics, projects
from bot.answers import Answer, AnswerEngine, GuideLink, Source
from bot.checklist import Checklist
from bot.db.models import AnswerRecord
from bot.db.session import Database
from bot.errors import USER_ERRORS
from bot.intent import Intent
from bot.jobs import Claimed, RetryLater
from bot.readiness import ChecklistSource, project_state, readiness_note, related_note
from bot.slack import blocks as ui
from bot.slack.client import retry_handlers
from bot.slack.jobs.context import JobContext
from bot.slack.jobs.delivery import send_to_response_url, to_slack

log = logging.getLogger(__name__)

QUESTION = "answer.question"
RETRY_WINDOW = 600.0  # seconds after the question during which the job is tried again


@dataclass(frozen=True)
class Asked:
    team_id: str
    channel_id: str
    user_id: str
    question: str
    surface: str  # mention, thread, dm, command
    thread_ts: str | None = None
    response_url: str | None = None

    def payload(self) -> dict:
        return asdict(self)


class AnswerService:
    """Holds the engine (loaded once, on first use) and posts answers."""

    def __init__(
        self,
        engine_factory: Callable[[], AnswerEngine],
        db: Database,
        max_retries: int,
        checklists: Checklist | ChecklistSource,
    ) -> None:
        self._engine_factory = engine_factory
        self._engine: AnswerEngine | None = None
        self._engine_lock = threading.Lock()
        self.db = db
        self.max_retries = max_retries
        self.checklists = checklists
        self.retry_window = RETRY_WINDOW

    @property
    def loaded(self) -> bool:
        return self._engine is not None

    @property
    def engine(self) -> AnswerEngine:
        with self._engine_lock:
            if self._engine is None:
                self._engine = self._engine_factory()
            return self._engine

    def given_up(self, job: Claimed, now: datetime) -> bool:
        """An answer is tried again for `retry_window` seconds after the question arrived."""
        return now - job.created_at > timedelta(seconds=self.retry_window)

    def run(self, client_for: Callable[[str], WebClient], job: Claimed) -> None:
        """The job: answer, store once, deliver; a failure on the way means a later attempt."""
        asked = Asked(**job.payload)
        try:
            answer = self.engine.ask(asked.question)
        except USER_ERRORS as exc:  # a setup problem (the index, the model): retrying won't help
            log.error("cannot answer in channel %s: %s", asked.channel_id, exc)
            self.apologize(client_for(asked.team_id), asked)
            return
        with self.db.session() as session:
            record = history.answer_of_job(session, job.id)
            first = record is None
            if record is None:
                record = history.record_answer(
                    session,
                    answer,
                    team_id=asked.team_id,
                    channel_id=asked.channel_id,
                    user_id=asked.user_id,
                    surface=asked.surface,
                    job_id=job.id,
                )
            answer_id = record.id
            note, kpi_project = self._project_note(session, asked, answer)
            if asked.thread_ts and not asked.response_url:
                # Before posting, so a follow-up sent the moment the answer shows is answered too.
                history.remember_thread(session, asked.team_id, asked.channel_id, asked.thread_ts)
        if first:
            metrics.ANSWERS.labels(answer.outcome).inc()
        problem = self.deliver(client_for(asked.team_id), asked, answer, answer_id, note, kpi_project)
        if problem is not None:
            raise RetryLater(
                f"posting the answer to channel {asked.channel_id} failed after retries: {problem}"
            )

    def _project_note(self, session, asked: Asked, answer: Answer) -> tuple[str | None, int | None]:
        """A line on the channel's project, when it has open items related to the answer."""
        if not answer.answered:
            return None, None
        project = projects.channel_project(session, asked.team_id, asked.channel_id)
        if project is None:
            return None, None
        state = project_state(session, project, self.checklists)
        if answer.intent == Intent.readiness:
            return readiness_note(state), None
        categories = list(dict.fromkeys(s.category for s in answer.sources))
        note = related_note(state, categories)
        kpi_open = note is not None and not state.kpis and "kpis" in categories[:2]
        return note, project.id if kpi_open else None

    def apologize(self, client: WebClient, asked: Asked) -> None:
        """Tell the asker that answering is broken on our side (the logs say why)."""
        text = (
            "Sorry, I can't answer questions right now because of a problem on my side; "
            "an admin has been told."
        )
        try:
            if asked.response_url:
                WebhookClient(asked.response_url).send(
                    text=text, response_type="ephemeral", replace_original=True
                )
            else:
                client.chat_postMessage(channel=asked.channel_id, thread_ts=asked.thread_ts, text=text)
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.error("telling the asker in channel %s failed: %s", asked.channel_id, exc)

    def deliver(
        self,
        client: WebClient,
        asked: Asked,
        answer: Answer,
        answer_id: int,
        note: str | None = None,
        kpi_project: int | None = None,
    ) -> str | None:
        """Post the answer once (the client retries 429, 5xx and network errors a few times).

        Returns None when done, or what went wrong when Slack could not be reached or answered
        429/5xx, so that a later attempt may succeed. Other errors are logged and not retried.
        """
        shareable = asked.response_url is not None
        blocks = ui.to_dicts(
            ui.answer_blocks(
                answer, answer_id, shareable=shareable, project_note=note, kpi_project=kpi_project
            )
        )
        text = ui.fallback_text(answer)
        try:
            if asked.response_url:
                webhook = WebhookClient(asked.response_url, retry_handlers=retry_handlers(self.max_retries))
                # Replaces the "Looking that up" reply: a job run again after a crash between
                # posting and recording it shows the answer once, not twice.
                result = webhook.send(
                    text=text, blocks=blocks, response_type="ephemeral", replace_original=True
                )
                if result.status_code == 429 or result.status_code >= 500:
                    return f"HTTP {result.status_code} from the response URL"
                if result.status_code != 200:
                    log.error(
                        "response_url post failed for channel %s: HTTP %s %s",
                        asked.channel_id,
                        result.status_code,
                        result.body[:200],
                    )
                return None
            client.chat_postMessage(
                channel=asked.channel_id,
                thread_ts=asked.thread_ts,
                text=text,
                blocks=blocks,
                unfurl_links=False,
            )
        except SlackApiError as exc:
            status = exc.response.status_code
            if status == 429 or status >= 500:
                return f"HTTP {status} {exc.response.get('error', '')}".rstrip()
            log.error("posting the answer to channel %s failed: %s", asked.channel_id, exc)
            return None
        except (SlackClientError, OSError) as exc:  # connection refused, reset, timed out
            return f"{exc.__class__.__name__}: {exc}"
        return None


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
