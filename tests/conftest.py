from __future__ import annotations

import contextlib
import os
import shutil
import socket
import textwrap
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from bot.settings import Settings
from indexer.embedding import Embedder

DATA = Path(__file__).parent / "data"


def write_doc(
    folder: Path,
    doc_id: str,
    category: str = "kpis",
    body: str | None = None,
    **extra: str | None,
) -> Path:
    """A valid knowledge document; `extra` overrides raw front-matter lines (None drops one)."""
    fields = {
        "id": doc_id,
        "title": doc_id.replace("-", " ").title(),
        "category": category,
        "tags": "[test]",
        "checklist_items": "[]",
        "sources": '\n  - "Test source"',
    }
    fields.update(extra)
    front = "\n".join(f"{k}: {v}" for k, v in fields.items() if v is not None)
    body = body or textwrap.dedent(f"""\
        An introduction to {doc_id}.

        ## What goes wrong
        Teams forget about {doc_id} until it is too late to fix cheaply.

        ## What to do
        - Write down the plan for {doc_id} before the first experiment.
        - Review the plan for {doc_id} with the sponsor every month.
        """)
    path = folder / f"{doc_id}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"---\n{front}\n---\n{body}", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    emb = Embedder()
    assert emb.dimension == 384
    return emb


@pytest.fixture(scope="session")
def first_use(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, CliRun]:
    """The shipped knowledge base indexed once per test run, the way a new user's first
    `mlready ask` does it: on a missing index, which it builds (tests check that run too)."""
    work = tmp_path_factory.mktemp("shipped")
    index_dir = work / "index"
    env = {"MLREADY_INDEX_DIR": str(index_dir), "MLREADY_DATABASE_URL": f"sqlite:///{work / 'first.db'}"}
    result = run_cli("ask", "what is the weather in Paris?", env=env)
    assert result.returncode == 0, result.stderr
    return index_dir, result


@pytest.fixture(scope="session")
def shipped_index(first_use: tuple[Path, CliRun]) -> Path:
    return first_use[0]


@pytest.fixture(scope="session")
def engine(shipped_index: Path):
    """The answer engine as the app runs it: queries embedded by the index's ONNX encoder."""
    from bot.knowledge_base import open_engine

    return open_engine(Settings(index_dir=shipped_index))


PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"  # trust auth; each test gets its own database


def _pg_available() -> bool:
    import psycopg

    try:
        psycopg.connect(PG_ADMIN, connect_timeout=3).close()
    except psycopg.OperationalError:
        return False
    return True


@pytest.fixture(scope="session")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A database of each kind at the head migration, made once: tests start from copies, which
    saves running the migrations again in each of them (`mlready db upgrade` then finds nothing
    to do; tests of the migrations themselves go down and up from there)."""
    import uuid

    from bot.db.migrate import open_database

    sqlite = tmp_path_factory.mktemp("migrated") / "mlready.db"
    open_database(f"sqlite:///{sqlite}").dispose()
    made = {"sqlite": str(sqlite)}
    if _pg_available():
        import psycopg

        name = f"mlready_template_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        open_database(f"postgresql://postgres@127.0.0.1:5432/{name}").dispose()
        made["postgresql"] = name
    yield made
    if "postgresql" in made:
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{made["postgresql"]}" WITH (FORCE)')


def sqlite_copy(migrated: dict[str, str], path: Path) -> str:
    shutil.copyfile(migrated["sqlite"], path)
    return f"sqlite:///{path}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, migrated: dict[str, str]):
    """A database of its own on SQLite and on PostgreSQL, migrated and holding no rows."""
    if request.param == "sqlite":
        yield sqlite_copy(migrated, tmp_path / "mlready.db")
        return
    import uuid

    import psycopg

    if "postgresql" not in migrated:
        pytest.fail("PostgreSQL is not reachable on 127.0.0.1:5432; start it (see README)")
    name = f"mlready_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{migrated["postgresql"]}"')
    yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def slack():
    from fake_slack.web_api import LocalSlackAPI

    api = LocalSlackAPI(team_id="T111").start()
    yield api
    api.stop()


@pytest.fixture
def start_app(tmp_path: Path, shipped_index: Path, engine, slack, migrated: dict[str, str]):
    """Start the app in HTTP mode on a fresh SQLite file with settings overrides; stopped after the test."""
    from tests.slack_harness import RunningApp

    started: list[RunningApp] = []

    def start(**overrides) -> RunningApp:
        if "database_url" not in overrides:
            overrides["database_url"] = sqlite_copy(migrated, tmp_path / "app.db")
        app = RunningApp(Settings(index_dir=shipped_index, **overrides), lambda: engine, slack)
        started.append(app)
        return app

    yield start
    for app in started:
        app.stop()


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without Slack or mlready settings, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MLREADY_"))}
    return {**env, **extra}


@dataclass
class CliRun:
    returncode: int
    stdout: str
    stderr: str


def run_cli(
    *args: str, env: dict[str, str] | None = None, drop: tuple[str, ...] = (), input: str | None = None
) -> CliRun:
    """`mlready ARGS` in this process (as `bot.cli.main` runs it), with `env` set and `drop` unset
    for the call; one subprocess test per entry point covers the real start-up."""
    from typer.testing import CliRunner

    from bot.cli import app
    from bot.errors import USER_ERRORS

    saved = {k: os.environ.get(k) for k in [*(env or {}), *drop]}
    try:
        for key in drop:
            os.environ.pop(key, None)
        os.environ.update(env or {})
        result = CliRunner().invoke(app, list(args), input=input)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    if isinstance(result.exception, USER_ERRORS):
        return CliRun(1, result.stdout, result.stderr + f"error: {result.exception}\n")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return CliRun(result.exit_code, result.stdout, result.stderr)


@pytest.fixture
def settings(tmp_path: Path, shipped_index: Path, migrated: dict[str, str]) -> Settings:
    return Settings(index_dir=shipped_index, database_url=sqlite_copy(migrated, tmp_path / "bot.db"))


@pytest.fixture
def running(settings: Settings, engine, slack):
    """The app over HTTP on a fresh SQLite file with the test engine; stopped after the test."""
    from tests.slack_harness import RunningApp

    app = RunningApp(settings, lambda: engine, slack)
    yield app
    app.stop()


class FakeMessenger:
    """Records what would reach Slack; can refuse the next sends."""

    def __init__(self, timezones: dict[str, str] | None = None) -> None:
        self.sent: list = []  # bot.reminders.delivery.Reminder
        self.fail = 0
        self.timezones = timezones or {}
        self.away: set[str] = set()

    def user_timezone(self, team_id: str, user_id: str) -> str | None:
        return self.timezones.get(user_id)

    def is_away(self, team_id: str, user_id: str) -> bool:
        return user_id in self.away

    def send(self, reminder) -> tuple[str, str]:
        if self.fail:
            self.fail -= 1
            raise ConnectionError("Slack answered 500")
        self.sent.append(reminder)
        return reminder.target, f"{len(self.sent)}.0001"

    def by_destination(self) -> dict[str, list[list[str]]]:
        out: dict[str, list[list[str]]] = {}
        for r in self.sent:
            out.setdefault(r.destination, []).append(sorted(r.rules))
        return out


class CuttableRelay:
    """A TCP relay to PostgreSQL on 5432 that can be cut (connections dropped, new ones refused)
    or paused (connections stay open and nothing passes: a hanging database)."""

    def __init__(self) -> None:
        from tests.slack_harness import free_port

        self.port = free_port()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._flowing = threading.Event()
        self._flowing.set()
        self.restore()

    def restore(self) -> None:
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", self.port))
        self._listener.listen(32)
        threading.Thread(target=self._accept, args=(self._listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", 5432))
            with self._lock:
                self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def pause(self) -> None:
        self._flowing.clear()

    def resume(self) -> None:
        self._flowing.set()

    def _pipe(self, a: socket.socket, b: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := a.recv(65536):
                self._flowing.wait()
                b.sendall(data)
        with contextlib.suppress(OSError):
            b.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        with self._lock:
            for s in self._sockets:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()
            self._sockets.clear()


@pytest.fixture
def relay() -> Iterator[CuttableRelay]:
    r = CuttableRelay()
    yield r
    r.cut()
