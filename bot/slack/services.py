"""What listeners share: the answer service, the job outbox and runner, the database, the
checklist templates and guides, the reminder run, and the `/mlready` subcommands each listener group adds.
Built once by app.py; listeners import this module, never app.py or each other."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.db.session import Database
from bot.jobs import JobRunner
from bot.reminders.delivery import ReminderRun
from bot.slack.jobs.answers import AnswerService
from bot.slack.outbox import Outbox
from bot.templates import TemplateCatalog
from indexer.knowledge import KnowledgeDoc

# (ack, command, client, args, services, respond): one per `/mlready <name>`
Subcommand = Callable[[Ack, dict, WebClient, str, "Services", Respond], None]


@dataclass
class Services:
    answers: AnswerService
    jobs: JobRunner
    outbox: Outbox
    db: Database
    templates: TemplateCatalog  # each project's checklist version
    docs: dict[str, KnowledgeDoc]
    reminders: ReminderRun
    subcommands: dict[str, Subcommand] = field(default_factory=dict)

    @property
    def doc_titles(self) -> dict[str, str]:
        return {doc_id: doc.meta.title for doc_id, doc in self.docs.items()}
