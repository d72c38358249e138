"""Answer a question and deliver it to Slack: runs on the worker, never on the ack path."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.webhook import WebhookClient

from bot import history, metrics, projects
from bot.answers import Answer, AnswerEngine
from bot.checklist import Checklist
from bot.db.session import Database
from bot.readiness import project_state, related_note
from bot.slack import blocks as ui
from bot.slack.client import retry_handlers

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Asked:
    team_id: str
    channel_id: str
    user_id: str
    question: str
    surface: str  # mention, thread, dm, command
    thread_ts: str | None = None
    response_url: str | None = None


class AnswerService:
    """Holds the engine (loaded once, on first use) and posts answers."""

    def __init__(
        self, engine_factory: Callable[[], AnswerEngine], db: Database, max_retries: int, checklist: Checklist
    ) -> None:
        self._engine_factory = engine_factory
        self._engine: AnswerEngine | None = None
        self._engine_lock = threading.Lock()
        self.db = db
        self.max_retries = max_retries
        self.checklist = checklist

    @property
    def loaded(self) -> bool:
        return self._engine is not None

    @property
    def engine(self) -> AnswerEngine:
        with self._engine_lock:
            if self._engine is None:
                self._engine = self._engine_factory()
            return self._engine

    def answer(self, client: WebClient, asked: Asked) -> None:
        answer = self.engine.ask(asked.question)
        metrics.ANSWERS.labels("answered" if answer.answered else "declined").inc()
        with self.db.session() as session:
            record = history.record_answer(
                session,
                answer,
                team_id=asked.team_id,
                channel_id=asked.channel_id,
                user_id=asked.user_id,
                surface=asked.surface,
            )
            answer_id = record.id
            note, kpi_project = self._project_note(session, asked, answer)
        self.deliver(client, asked, answer, answer_id, note, kpi_project)

    def _project_note(self, session, asked: Asked, answer: Answer) -> tuple[str | None, int | None]:
        """A line on the channel's project, when it has open items related to the answer."""
        if not answer.answered:
            return None, None
        project = projects.channel_project(session, asked.team_id, asked.channel_id)
        if project is None:
            return None, None
        state = project_state(session, project, self.checklist)
        categories = list(dict.fromkeys(s.category for s in answer.sources))
        note = related_note(state, self.checklist, categories)
        kpi_open = note is not None and not state.kpis and "kpis" in categories[:2]
        return note, project.id if kpi_open else None

    def deliver(
        self,
        client: WebClient,
        asked: Asked,
        answer: Answer,
        answer_id: int,
        note: str | None = None,
        kpi_project: int | None = None,
    ) -> None:
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
                result = webhook.send(text=text, blocks=blocks, response_type="ephemeral")
                if result.status_code != 200:
                    log.error(
                        "response_url post failed for channel %s: HTTP %s %s",
                        asked.channel_id,
                        result.status_code,
                        result.body[:200],
                    )
                return
            client.chat_postMessage(
                channel=asked.channel_id,
                thread_ts=asked.thread_ts,
                text=text,
                blocks=blocks,
                unfurl_links=False,
            )
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.error("posting the answer to channel %s failed after retries: %s", asked.channel_id, exc)
            return
        if asked.thread_ts:
            with self.db.session() as session:
                history.remember_thread(session, asked.team_id, asked.channel_id, asked.thread_ts)
