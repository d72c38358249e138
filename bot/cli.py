"""The `mlready` command line. Heavy imports (torch, sentence-transformers) stay inside
the commands that embed, so `mlready --help`, `report` and `db` start fast."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from bot.errors import USER_ERRORS, MlreadyError
from indexer.retriever import Retriever

app = typer.Typer(
    help="mlready: find out early whether your ML project is set up to fail.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

KnowledgeOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--knowledge",
        "-k",
        help="Extra knowledge folder (repeatable).",
        exists=True,
        file_okay=False,
        resolve_path=True,
    ),
]
RetrieverOpt = Annotated[Retriever, typer.Option(help="Ranking: dense, bm25 or hybrid.")]


def _settings():
    from bot.logs import configure
    from bot.settings import Settings

    try:
        settings = Settings()
    except Exception as exc:  # pydantic's ValidationError names the setting
        raise MlreadyError(f"invalid setting: {exc}") from None
    configure(logging.getLogger().level, settings.log_format)
    return settings


def _err(message: str) -> None:
    typer.echo(message, err=True)


@app.callback()
def _main(verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False) -> None:
    from bot.logs import configure

    configure(logging.INFO if verbose else logging.WARNING)


@app.command()
def index(
    knowledge: KnowledgeOpt = None,
    full: Annotated[bool, typer.Option(help="Re-embed every document.")] = False,
) -> None:
    """Validate the knowledge base and (re)build the search index."""
    from bot.knowledge_base import build, indexing_embedder

    settings = _settings()
    report = build(settings, indexing_embedder(settings), extra=knowledge, full=full)
    m = report.manifest
    typer.echo(
        f"Indexed {len(m.documents)} documents into {m.chunk_count} chunks in "
        f"{report.seconds:.1f}s ({len(m.embedded_docs)} embedded, {len(report.reused_docs)} "
        f"reused) -> {settings.index_dir}"
    )


@app.command()
def check(knowledge: KnowledgeOpt = None) -> None:
    """Validate the knowledge documents and the checklist without writing anything."""
    from bot.knowledge_base import load_knowledge

    kb = load_knowledge(_settings(), knowledge)
    typer.echo(
        f"OK: {len(kb.docs)} documents, {len(kb.checklist.items())} checklist items, "
        f"{len(kb.out_of_scope)} questions to decline, templates: {', '.join(kb.templates.builtin)}."
    )


@app.command()
def ask(
    question: Annotated[
        str, typer.Argument(help="Your question, in quotes; '-' reads one question per line from stdin.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
    retriever: RetrieverOpt = Retriever.hybrid,
) -> None:
    """Answer a question from the knowledge base, with citations."""
    batch = question.strip() == "-"
    if not question.strip():
        _err(
            'error: the question is empty; ask something, e.g. mlready ask "how do we pick a KPI for churn?"'
        )
        raise typer.Exit(2)
    from bot.answers import format_text
    from bot.knowledge_base import open_engine

    engine = open_engine(_settings(), notify=_err)
    # One warm process for a whole batch: blank lines are skipped, answers keep the input order.
    questions = (line.strip() for line in sys.stdin) if batch else iter([question])
    for text in questions:
        if not text:
            continue
        answer = engine.ask(text, retriever)
        if as_json:
            typer.echo(json.dumps(answer.to_json(), ensure_ascii=False))
        else:
            typer.echo(format_text(answer) + ("\n" if batch else ""))


@app.command("eval")
def evaluate_cmd(
    questions: Annotated[Path, typer.Option(help="YAML file of questions.", dir_okay=False)],
    retriever: RetrieverOpt = Retriever.hybrid,
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as JSON.")] = False,
    show_misses: Annotated[bool, typer.Option(help="List the questions that missed.")] = False,
) -> None:
    """Measure hit@1, hit@3, MRR, declines and warm latency on a question file."""
    from bot.evaluation import evaluate, load_questions
    from bot.knowledge_base import open_engine

    items = load_questions(questions)
    engine = open_engine(_settings(), notify=_err)
    result = evaluate(engine, items, retriever)
    if as_json:
        typer.echo(result.model_dump_json())
    else:
        for key, value in result.model_dump().items():
            typer.echo(f"{key:>22}: {value}")
    if show_misses:
        for miss in result.misses:
            _err(json.dumps(miss, ensure_ascii=False))


@app.command()
def chat() -> None:
    """Try mlready without Slack: the real app against a local stand-in for Slack."""
    from fake_slack.console import run_console

    interactive = sys.stdin.isatty()

    def lines():
        while True:
            try:
                yield input("you> ") if interactive else next(sys.stdin)
            except (EOFError, StopIteration, KeyboardInterrupt):
                return

    run_console(_settings(), lines(), sys.stdout, interactive)


@app.command()
def serve(
    http: Annotated[
        bool, typer.Option("--http", help="Serve HTTP (Events API) instead of Socket Mode.")
    ] = False,
    host: Annotated[str, typer.Option(help="Address to listen on in HTTP mode.")] = "0.0.0.0",
    port: Annotated[int, typer.Option(help="Port for HTTP mode.")] = 3000,
) -> None:
    """Run the Slack app: Socket Mode when SLACK_APP_TOKEN is set, or HTTP with --http."""
    from bot.slack.serve import serve_http, serve_socket_mode

    settings = _settings()
    if http:
        serve_http(settings, host, port)
    else:
        serve_socket_mode(settings)


def _moment(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"'{text}' is not an ISO date-time, e.g. 2026-12-07T09:31:00+00:00"
        ) from None
    if moment.tzinfo is None:
        raise typer.BadParameter(f"'{text}' has no UTC offset; add one, e.g. 2026-12-07T09:31:00+00:00")
    return moment


@app.command()
def remind(
    once: Annotated[bool, typer.Option("--once", help="Run the due reminders once and exit.")] = False,
    now: Annotated[
        str | None, typer.Option(help="Act as if at this moment (ISO 8601 with offset).", show_default=False)
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would be sent; send nothing.")
    ] = False,
) -> None:
    """Send the due reminders (for cron); `mlready serve` also sends them on its own."""
    if not once and not dry_run:
        _err(
            "error: add --once to send the due reminders now (or --dry-run to list them); "
            "`mlready serve` sends them by itself every MLREADY_REMINDER_INTERVAL_SECONDS"
        )
        raise typer.Exit(2)
    moment = _moment(now)
    from datetime import timedelta

    from bot.db.migrate import open_database
    from bot.knowledge_base import load_knowledge
    from bot.reminders.delivery import ReminderRun

    settings = _settings()
    kb = load_knowledge(settings)
    db = open_database(settings.database_url)
    run = ReminderRun(db, kb.templates, None, timedelta(days=settings.reminder_grace_days))
    if dry_run:
        outcomes = run.dry_run(moment)
    else:
        from bot.slack.oauth import client_factory
        from bot.slack.reminder_scheduler import SlackMessenger

        clients = client_factory(settings, db.engine)
        run.messenger = SlackMessenger(clients, db, kb.templates, {d.id: d.meta.title for d in kb.docs})
        outcomes = run.run(moment)
    for o in outcomes:
        detail = f" ({o.detail})" if o.detail else ""
        rules = ",".join(o.rules)
        where = f"{o.project} ({o.channel_id}) -> {o.destination}"
        typer.echo(f"{o.status:<10} {where}: {rules} [{o.period}]{detail}")
    if not outcomes:
        typer.echo("Nothing due.")
    db.dispose()
    if any(o.status in ("retry", "failed") for o in outcomes):
        raise typer.Exit(3)


db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or upgrade the database schema to the latest migration."""
    from bot.db.migrate import current_revision, open_database

    db = open_database(_settings().database_url)
    typer.echo(f"Database at revision {current_revision(db.engine)}.")


@db_app.command("prune")
def db_prune() -> None:
    """Delete old bookkeeping rows (handled event ids, finished jobs, answered threads); for
    deployments without `mlready serve`'s scheduler, e.g. from cron next to `mlready remind --once`."""
    from bot.db.migrate import open_database
    from bot.db.models import utcnow

    settings = _settings()
    db = open_database(settings.database_url)
    with db.session() as session:
        removed = settings.retention.prune(session, utcnow())
    typer.echo(", ".join(f"{table}: {count} removed" for table, count in removed.items()))


feedback_app = typer.Typer(help="Answer feedback.", no_args_is_help=True)
app.add_typer(feedback_app, name="feedback")


class ReportFormat(StrEnum):
    md = "md"
    csv = "csv"


@feedback_app.command("report")
def feedback_report(
    since: Annotated[int | None, typer.Option(help="Only the last DAYS days.", min=1)] = None,
    fmt: Annotated[ReportFormat, typer.Option("--format", help="md or csv.")] = ReportFormat.md,
) -> None:
    """Questions declined or marked not helpful, most frequent first, with the sources shown."""
    from bot.db.migrate import open_database
    from bot.feedback_report import build_report, to_csv, to_markdown

    db = open_database(_settings().database_url)
    with db.session() as session:
        rows = build_report(session, since)
    typer.echo(to_markdown(rows, since) if fmt == ReportFormat.md else to_csv(rows), nl=False)


class ProjectReportFormat(StrEnum):
    md = "md"
    csv = "csv"
    json = "json"


@app.command()
def report(
    project: Annotated[str | None, typer.Option(help="Project name.")] = None,
    workspace: Annotated[
        str | None,
        typer.Option(help="Slack team id (T...): needed with --all, or when several have that name."),
    ] = None,
    every: Annotated[
        bool, typer.Option("--all", help="Every active project of --workspace side by side.")
    ] = False,
    fmt: Annotated[
        ProjectReportFormat, typer.Option("--format", help="md, csv or json (--all: md or json).")
    ] = ProjectReportFormat.md,
) -> None:
    """Export a project's checklist responses, evidence, history, KPIs and sign-offs, or with
    --all the workspace's portfolio: every project's score and the causes most often open."""
    from bot import project_report
    from bot.db.migrate import open_database
    from bot.knowledge_base import load_knowledge
    from bot.projects import find_by_name

    if every == (project is not None):
        raise MlreadyError(
            "name one project with --project NAME, or all of a workspace with --all --workspace T"
        )
    if every and not workspace:
        raise MlreadyError("--all needs --workspace TEAM_ID (the T... id of the Slack workspace)")
    if every and fmt == ProjectReportFormat.csv:
        raise MlreadyError("the portfolio comes as md or json; use --format md or --format json")
    settings = _settings()
    kb = load_knowledge(settings)
    db = open_database(settings.database_url)
    with db.session() as session:
        if every:
            from bot import portfolio

            assert workspace is not None
            view = portfolio.portfolio(session, workspace, kb.templates)
            titles = {d.id: d.meta.title for d in kb.docs}
            text = (
                portfolio.to_json(view)
                if fmt == ProjectReportFormat.json
                else portfolio.to_markdown(view, titles)
            )
            typer.echo(text, nl=False)
            return
        assert project is not None
        found = find_by_name(session, project, workspace)
        if not found:
            raise MlreadyError(
                f"no project named '{project}'"
                + (f" in workspace {workspace}" if workspace else "")
                + "; check the name with /mlready project in its channel"
            )
        teams = {p.team_id for p in found}
        if len(teams) > 1:
            raise MlreadyError(
                f"several workspaces have a project named '{project}' "
                f"({', '.join(sorted(teams))}); add --workspace TEAM_ID"
            )
        chosen = next((p for p in reversed(found) if p.archived_at is None), found[-1])
        typer.echo(
            project_report.render(session, chosen, kb.templates, fmt.value),
            nl=False,
        )


checklist_app = typer.Typer(help="Checklist templates.", no_args_is_help=True)
app.add_typer(checklist_app, name="checklist")


@checklist_app.command("import")
def checklist_import(
    file: Annotated[Path, typer.Argument(help="A checklist template (YAML).", dir_okay=False)],
    workspace: Annotated[str, typer.Option(help="Slack team id (T...) the template is for.")],
) -> None:
    """Validate a checklist template and store it for one workspace (nothing changes on error);
    projects pick it with `/mlready project create NAME --template T`."""
    from bot.db.migrate import open_database
    from bot.knowledge_base import load_knowledge

    settings = _settings()
    kb = load_knowledge(settings)
    db = open_database(settings.database_url)
    with db.session() as session:
        result = kb.templates.import_file(session, workspace, file)
    t = result.template
    if not result.created:
        typer.echo(
            f"Template '{t.name}' version {t.version} is already imported for {workspace}; nothing changed."
        )
        return
    typer.echo(
        f"Imported template '{t.name}' version {t.version} for {workspace}: "
        f"{len(t.checklist.sections)} sections, {len(t.checklist.items())} items "
        f"({sum(i.blocking for i in t.checklist.items())} blocking)."
    )


@checklist_app.command("templates")
def checklist_templates(
    workspace: Annotated[str, typer.Option(help="Slack team id (T...).")],
) -> None:
    """List the templates a workspace's projects can be created with."""
    from bot.db.migrate import open_database
    from bot.knowledge_base import load_knowledge

    settings = _settings()
    kb = load_knowledge(settings)
    db = open_database(settings.database_url)
    with db.session() as session:
        for t in kb.templates.available(session, workspace).values():
            typer.echo(
                f"{t.name:<20} v{t.version:<4} {t.source:<10} {len(t.checklist.items()):>3} items  {t.title}"
            )


def main() -> None:
    try:
        app()
    except USER_ERRORS as exc:
        _err(f"error: {exc}")
        sys.exit(1)


if __name__ == "__main__":
    main()
