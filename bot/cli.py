"""The `mlready` command line. Heavy imports (torch, sentence-transformers) stay inside
the commands that embed, so `mlready --help`, `report` and `db` start fast."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from indexer.errors import MlreadyError
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
    from bot.settings import Settings

    try:
        return Settings()
    except Exception as exc:  # pydantic's ValidationError names the setting
        raise MlreadyError(f"invalid setting: {exc}") from None


def _err(message: str) -> None:
    typer.echo(message, err=True)


@app.callback()
def _main(verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


@app.command()
def index(
    knowledge: KnowledgeOpt = None,
    full: Annotated[bool, typer.Option(help="Re-embed every document.")] = False,
) -> None:
    """Validate the knowledge base and (re)build the search index."""
    from bot.knowledge_base import build
    from indexer.embedding import Embedder

    settings = _settings()
    report = build(settings, Embedder(settings.model_path), extra=knowledge, full=full)
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
    typer.echo(f"OK: {len(kb.docs)} documents, {len(kb.checklist.items())} checklist items.")


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="Your question, in quotes.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
    retriever: RetrieverOpt = Retriever.hybrid,
) -> None:
    """Answer a question from the knowledge base, with citations."""
    if not question.strip():
        _err(
            'error: the question is empty; ask something, e.g. mlready ask "how do we pick a KPI for churn?"'
        )
        raise typer.Exit(2)
    from bot.answers import format_text
    from bot.knowledge_base import open_engine

    engine = open_engine(_settings(), notify=_err)
    answer = engine.ask(question, retriever)
    if as_json:
        typer.echo(json.dumps(answer.to_json(), ensure_ascii=False))
    else:
        typer.echo(format_text(answer))


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
            typer.echo(f"{key:>18}: {value}")
    if show_misses:
        for miss in result.misses:
            _err(json.dumps(miss, ensure_ascii=False))


def main() -> None:
    try:
        app()
    except MlreadyError as exc:
        _err(f"error: {exc}")
        sys.exit(1)


if __name__ == "__main__":
    main()
