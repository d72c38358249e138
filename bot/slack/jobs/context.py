"""What a job needs to do its work after the ack: the database, a Slack client per workspace,
the checklist templates and guides, the answer service and the reminder run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk import WebClient

from bot.db.session import Database
from bot.reminders.delivery import ReminderRun
from bot.templates import TemplateCatalog
from indexer.knowledge import KnowledgeDoc


@dataclass
class JobContext:
    db: Database
    client_for: Callable[[str], WebClient]  # team id -> that workspace's client
    templates: TemplateCatalog
    docs: dict[str, KnowledgeDoc]
    reminders: ReminderRun

    @property
    def doc_titles(self) -> dict[str, str]:
        return {doc_id: doc.meta.title for doc_id, doc in self.docs.items()}
