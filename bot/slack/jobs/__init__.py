"""Work that runs after the ack, as durable jobs (bot/jobs.py): one module per feature.

Listeners store a job by kind with a JSON payload, in the transaction of what it acts on;
`register_handlers` tells the runner which function does each kind.
"""

from __future__ import annotations

import functools

from bot.jobs import JobRunner
from bot.slack.jobs import answers, checklist, home, projects, reminders, replies, signoff
from bot.slack.jobs.context import JobContext

FEATURES = (answers, checklist, home, projects, reminders, replies, signoff)


def register_handlers(runner: JobRunner, ctx: JobContext, answering: answers.AnswerService) -> None:
    for module in FEATURES:
        for kind, handler in module.HANDLERS.items():
            runner.register(kind, functools.partial(handler, ctx))
    runner.register(
        answers.QUESTION, functools.partial(answering.run, ctx.client_for), give_up=answering.given_up
    )
