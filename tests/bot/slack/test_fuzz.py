"""Bad input, fuzzed with hypothesis through the real signed HTTP endpoint.

Every example is one request through uvicorn, the signature check, Bolt and the listeners,
as Slack sends them, to one app per module (SQLite file). For every example:

- the HTTP status is never 500;
- neither the response body nor anything the app sent to the local Slack API while handling
  it (texts, blocks, views, response_url posts, uploads) shows a traceback, an exception or a
  Python file path (checked once the worker is idle);
- nothing stored is what PostgreSQL would refuse (NUL characters, strings longer than their
  column, integers beyond 32 bits), which SQLite silently accepts;
- rejected input leaves every row of every table exactly as it was.

"Rejected", precisely:

- a reply with status 400, 401, 404 or 413: unsigned or junk bodies, unknown action or
  callback ids;
- a slash command other than these writes: `ask <question>`; `project create <valid name>`
  in a channel without a project; `project archive` by the project's owner; `signoff <@U..>`
  and any parseable `remind ...` in a channel with a project. So help, unknown and empty
  subcommands, bad arguments, and also the read-only `status`, `project`, `checklist`, `export`;
- a click whose value does not name its target exactly (an int equal to the id of an active
  project or existing sign-off, not `true`, `1.0` or "1"; for feedback, an existing answer id),
  or names an invalid checklist item or answer, a decision on someone else's sign-off, and
  every click of a button that only reads or opens a modal;
- a modal submission answered with `response_action: errors`.

Inputs that once crashed the app are pinned as examples or as tests at the end.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import BigInteger, Integer, String, select

from bot.answers import AnswerEngine
from bot.checklist import ResponseValue, load_shipped_checklist
from bot.command_grammar import KNOWN, parse
from bot.db.models import AnswerRecord, Base, Project, Signoff
from bot.projects import ProjectError, channel_project, clean_name
from bot.reminders.schedule import ScheduleError, parse_remind
from bot.settings import Settings
from bot.signoffs import SignoffError, parse_request
from bot.slack import ids
from fake_slack import payloads
from fake_slack.web_api import Call, LocalSlackAPI
from tests.slack_harness import TEAM, Reply, RunningApp

# What must never reach a user; generated input never contains it, so the app cannot echo it.
LEAK = re.compile(r'Traceback|Exception|File "|site-packages|\.py\b')
REJECTED_STATUS = {400, 401, 404, 413}
FORM, JSON = "application/x-www-form-urlencoded", "application/json"
CHECKLIST = load_shipped_checklist()
ITEM_IDS = [item.id for item in CHECKLIST.items()]
YESNO_IDS = [item.id for item in CHECKLIST.items() if item.kind == "yesno"]
CATEGORIES = [section.category for section in CHECKLIST.sections]
OWNER, STAKEHOLDER = "U1", "U9"

FAST = settings(deadline=None, derandomize=True, database=None, max_examples=40)


# ------------------------------------------------------------------------------ the app


class Fuzz:
    """The running app and the ids of what the buttons act on."""

    def __init__(
        self, app: RunningApp, project_id: int, answer_id: int, signoff_id: int, views: dict
    ) -> None:
        self.app, self.project_id, self.answer_id, self.signoff_id = app, project_id, answer_id, signoff_id
        self.views: dict[str, dict] = views  # callback_id -> the modal as the app opened it

    def __repr__(self) -> str:  # short, for hypothesis' falsifying examples
        return f"Fuzz(project={self.project_id}, answer={self.answer_id}, signoff={self.signoff_id})"


@pytest.fixture(scope="module")
def fuzz(
    tmp_path_factory: pytest.TempPathFactory, shipped_index: Path, engine: AnswerEngine
) -> Iterator[Fuzz]:
    """A project in C1 (owner U1) with two answers, an answer to give feedback on, a sign-off
    request to U9, and the three modals as the app opens them."""
    slack = LocalSlackAPI(team_id=TEAM).start()
    db_url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.db'}"
    app = RunningApp(Settings(index_dir=shipped_index, database_url=db_url), lambda: engine, slack)
    try:
        assert app.command("project create Fuzz target", user=OWNER).status == 200
        with app.services.db.session() as session:
            project = channel_project(session, TEAM, "C1")
            assert project is not None
            project_id = project.id
        for item, value in [("objectives.problem-statement", "yes"), ("objectives.scope", "no")]:
            answer = encode(p=project_id, i=item, v=value)
            assert (
                app.click({"action_id": f"{ids.CHECKLIST_RESPONSE}_{value}", "value": answer}).status == 200
            )
        app.command("ask how do we pick a KPI for churn?", user=OWNER)
        app.command(f"signoff <@{STAKEHOLDER}> objectives and KPIs", user=OWNER, raw=True)
        app.idle()
        with app.services.db.session() as session:
            answer_id = session.scalars(select(AnswerRecord.id)).one()
            signoff_id = session.scalars(select(Signoff.id)).one()
        for action_id, value, user in [
            (ids.KPI_OPEN, encode(p=project_id, m=1), OWNER),
            (ids.SIGNOFF_CHANGES, encode(s=signoff_id), STAKEHOLDER),
            (ids.REMINDER_SIGNOFF_OPEN, encode(p=project_id), OWNER),
            (ids.EVIDENCE_OPEN, encode(p=project_id, i="objectives.scope"), OWNER),
            (ids.ASSIGN_OPEN, encode(p=project_id, i="objectives.scope"), OWNER),
        ]:
            assert app.click({"action_id": action_id, "value": value}, user=user).status == 200
        views = {c.params["view"]["callback_id"]: c.params["view"] for c in slack.wait_for("views.open", 5)}
        assert set(views) == {
            *(ids.KPI_MODAL, ids.SIGNOFF_CHANGES_MODAL, ids.REMINDER_SIGNOFF_MODAL),
            *(ids.EVIDENCE_MODAL, ids.ASSIGN_MODAL),
        }
        yield Fuzz(app, project_id, answer_id, signoff_id, views)
    finally:
        app.stop()
        slack.stop()


def encode(**values: object) -> str:
    """A button value or modal metadata as the app writes them: compact JSON, any fields."""
    return json.dumps(values, separators=(",", ":"))


def decode(value: str) -> dict:
    try:
        data = json.loads(value)
    except (ValueError, TypeError):
        return {}
    return data if isinstance(data, dict) else {}


REPLY_KINDS = {"reply.ephemeral", "reply.respond"}


def snapshot(app: RunningApp) -> dict[str, list[tuple]]:
    """Every row of every table."""
    with app.services.db.engine.connect() as conn:
        return {
            table.name: sorted((tuple(row) for row in conn.execute(select(table))), key=repr)
            for table in Base.metadata.sorted_tables
        }


def postgres_would_refuse(before: dict[str, list[tuple]], after: dict[str, list[tuple]]) -> list[str]:
    """Values stored since `before` that SQLite accepts and PostgreSQL refuses with an error."""
    found = []
    for table in Base.metadata.sorted_tables:
        old = {repr(row) for row in before[table.name]}  # rows may hold lists (JSON)
        for row in (row for row in after[table.name] if repr(row) not in old):
            for column, value in zip(table.columns, row, strict=True):
                length = getattr(column.type, "length", None) if isinstance(column.type, String) else None
                small_int = isinstance(column.type, Integer) and not isinstance(column.type, BigInteger)
                if (isinstance(value, str) and ("\x00" in value or (length and len(value) > length))) or (
                    small_int and isinstance(value, int) and not -(2**31) <= value < 2**31
                ):
                    found.append(f"{table.name}.{column.name} = {value!r:.80}")
    return found


def strings(value: object) -> Iterator[str]:
    """Every string in a JSON-like value, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings(item)


def leaks(reply: Reply, calls: list[Call]) -> list[str]:
    try:
        body: object = json.loads(reply.body)
    except ValueError:
        body = None
    shown = [reply.body, *strings(body), *(s for c in calls for s in strings(c.params))]
    return [text[:300] for text in shown if LEAK.search(text)]


def exchange(fuzz: Fuzz, send: Callable[[RunningApp], Reply], rejected: Callable[[Reply], bool]) -> Reply:
    """Send one request and check the status, what users see, and what is stored."""
    app = fuzz.app
    before, first_call = snapshot(app), len(app.slack.calls)
    reply = send(app)
    app.idle()
    calls, after = app.slack.calls[first_call:], snapshot(app)
    assert reply.status != 500, reply
    assert not leaks(reply, calls)
    assert not postgres_would_refuse(before, after)
    if reply.status in REJECTED_STATUS or rejected(reply):
        changed = [t for t in after if after[t] != before[t] and t != "jobs"]
        assert changed == [], "rejected input changed these tables"
        # A rejected request may only have queued a reply to the user who sent it.
        old = {repr(row) for row in before["jobs"]}  # rows hold JSON payloads
        kinds = {row[1] for row in after["jobs"] if repr(row) not in old}
        assert kinds <= REPLY_KINDS, kinds
    return reply


def clean(value: object) -> bool:
    """Generated input never contains what `LEAK` looks for."""
    return not any(LEAK.search(s) for s in strings(value))


# ------------------------------------------------------------------------ strategies

ADVERSARIAL = st.sampled_from(
    [
        *["", " ", "\n", "\t", "\r\n", "\x00", "\x1b[31m", "\u202e", "\ufeff", "\u200b", "🎯", "Ω≈ç√"],
        *["<@U123|x>", "<@U9>", "<@W1ABC>", "<@>", "<#C1>", "<#C1|general>", "<!channel>", "<!here>"],
        *["*bold*", "_it_", "`code`", "```block```", "~strike~", "&amp;", "&lt;b&gt;", "<script>"],
        *["%", "%s", "{}", "{0}", "\\", "'", '"', "' OR 1=1 --", "null", "NaN", "-1", "0", "1e400", "9" * 30],
        *["create", "archive", "objectives", "kpis", "weekly", "daily", "mon", "09:30", "5pm", "24:00"],
        *["snooze", "3d", "0d", "999w", "timezone", "Europe/Berlin", "America", "owner", "now", "off"],
    ]
)
WORDS = st.one_of(
    ADVERSARIAL,
    st.text(max_size=20),
    st.integers().map(str),
    st.floats().map(str),
    st.from_regex(r"<@[UW][A-Z0-9]{1,40}(\|[^>]{0,10})?>", fullmatch=True),
    st.from_regex(r"<#C[A-Z0-9]{1,10}(\|[a-z-]{0,10})?>", fullmatch=True),
    st.builds(str.__mul__, st.sampled_from(["x", "é", "🎯", "<", "&"]), st.integers(100, 4000)),
)
ARGS = st.lists(WORDS, max_size=5).map(" ".join)
HEADS = st.one_of(
    st.sampled_from(sorted(KNOWN - {"ask"})),
    st.sampled_from(
        [
            *["STATUS", "Project", "project create", "project archive", "project rename", "checklist kpis"],
            *[f"remind {word}" for word in ["weekly", "daily", "snooze", "timezone", "off", "now"]],
            *[f"signoff <@{STAKEHOLDER}>", "signoff <@U2|dana>", "ask", ""],
        ]
    ),
    st.text(max_size=12),
)
# U1 is left out: as the owner, it could archive the project in C1 that other examples act on.
COMMAND_USERS = st.sampled_from(["U2", STAKEHOLDER])
CHANNELS = st.sampled_from(["C1", "C2", "D1", ""])

JSON_LEAVES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20), ADVERSARIAL
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
SUSPICIOUS_IDS = st.sampled_from([0, -1, 2**31, 2**63, 10**30, True, 1.0, "1"])


# The fixture's project, answer and sign-off are the first rows, so small ids name real ones.
IDS = st.one_of(st.integers(1, 3), SUSPICIOUS_IDS, JSON_LEAVES)
# A button's `value` (a string, as Slack sends it): dicts encoded like the app's own, with real,
# odd and junk fields, and junk strings.
ENCODED = st.fixed_dictionaries(
    {},
    optional={
        "p": IDS,
        "s": IDS,
        "i": st.one_of(st.sampled_from(ITEM_IDS), st.text(max_size=20)),
        "v": st.one_of(st.sampled_from([*ResponseValue, "YES", "maybe"]), JSON_LEAVES),
        "c": st.one_of(st.sampled_from([*CATEGORIES, "astrology"]), JSON_LEAVES),
        "m": JSON_LEAVES,
        "d": st.one_of(st.integers(-5, 40), JSON_LEAVES),
    },
).map(lambda fields: encode(**fields))
ACTION_VALUES = st.one_of(
    ENCODED,
    ENCODED,
    st.one_of(st.integers(0, 3), SUSPICIOUS_IDS).map(str),
    st.sampled_from(["", "{", "[]", "null", '"p"', '{"p": 1e999}', '{"p": NaN}', "1 ", "+1", "\uff11"]),
    st.text(max_size=30),
).filter(clean)
HUGE = 2**63  # beyond SQLite's integers (and PostgreSQL's INTEGER from 2**31)


REGISTERED_ACTIONS = re.compile(
    "|".join(
        [f"{ids.CHECKLIST_RESPONSE}_.*", f"{ids.CHECKLIST_PAGE}_.*"]
        + [
            re.escape(a)
            for a in (
                *(ids.FEEDBACK_HELPFUL, ids.FEEDBACK_NOT_HELPFUL, ids.SHARE_ANSWER, ids.CHECKLIST_WHY),
                *(ids.KPI_OPEN, ids.SIGNOFF_APPROVE, ids.SIGNOFF_CHANGES, ids.SIGNOFF_REVOKE),
                *(ids.REMINDER_SNOOZE, ids.REMINDER_SIGNOFF_OPEN, ids.EVIDENCE_OPEN, ids.ASSIGN_OPEN),
            )
        ]
    ),
    re.DOTALL,
)
KNOWN_ACTIONS = st.sampled_from(
    [
        *(ids.FEEDBACK_HELPFUL, ids.FEEDBACK_NOT_HELPFUL, ids.SHARE_ANSWER, ids.CHECKLIST_WHY, ids.KPI_OPEN),
        *(f"{ids.CHECKLIST_RESPONSE}_{v}" for v in [*ResponseValue, "bogus"]),
        *(f"{ids.CHECKLIST_PAGE}_{c}" for c in ["kpis", "bogus"]),
        *(ids.SIGNOFF_APPROVE, ids.SIGNOFF_CHANGES, ids.SIGNOFF_REVOKE),
        *(ids.REMINDER_SNOOZE, ids.REMINDER_SIGNOFF_OPEN, ids.EVIDENCE_OPEN, ids.ASSIGN_OPEN),
    ]
)
UNKNOWN_ACTIONS = st.one_of(
    st.text(max_size=40), st.sampled_from([ids.KPI_MODAL, "checklist_answer", "answer_helpful_", " kpi_open"])
).filter(lambda a: not REGISTERED_ACTIONS.fullmatch(a))
CLICK_USERS = st.sampled_from([OWNER, "U2", STAKEHOLDER])
MISSING = object()  # a button without a value


def action(action_id: str, value: object) -> dict:
    return {"action_id": action_id} | ({} if value is MISSING else {"value": value})


KPI_NUMBERS = st.one_of(
    st.sampled_from(["nan", "inf", "-inf", "1e400", "3,5", "1,200.5", "4.2%", " 7 ", "١٢", "0x10", ""]),
    st.floats().map(str),
    st.integers().map(str),
)
USER_IDS = st.sampled_from([OWNER, STAKEHOLDER, "W1", "", "U\x00", "U" + "1" * 40])
FIELD_VALUES = {
    "metric": st.one_of(st.sampled_from(["Monthly churn", "x", "  ", "ch\x00urn"]), st.text(max_size=250)),
    "baseline": KPI_NUMBERS,
    "target": KPI_NUMBERS,
    "deadline": st.one_of(st.dates().map(str), st.sampled_from(["2024-02-30", "tomorrow", ""])),
    "owner": USER_IDS,
    "stakeholder": USER_IDS,
    "comment": st.one_of(st.sampled_from(["Target too ambitious", " ", "no\x00pe"]), st.text(max_size=3000)),
    "note": st.one_of(
        st.sampled_from(["Agreed in the kick-off", "no\x00te", "x" * 1001]), st.text(max_size=1100)
    ),
    "url": st.one_of(
        st.sampled_from(["https://wiki.example/p", "javascript:alert(1)", "https://a.example/" + "a" * 2000]),
        st.text(max_size=60),
    ),
    "assignee": USER_IDS,
    "due": st.one_of(st.dates().map(str), st.sampled_from(["2024-02-30", "tomorrow", ""])),
}
ELEMENT_KEYS = {
    **{"deadline": "selected_date", "due": "selected_date"},
    **{"owner": "selected_user", "stakeholder": "selected_user", "assignee": "selected_user"},
}


VALID = {  # a value each modal accepts
    "metric": "Monthly churn",
    "baseline": "4.2",
    "target": "3.5",
    "unit": "%",
    "deadline": None,
    "owner": None,
    "comment": "Target too ambitious",
    "stakeholder": STAKEHOLDER,
    "what": "Q1 goals",
    "note": "Agreed in the kick-off",
    "url": "https://wiki.example/p",
    "assignee": STAKEHOLDER,
    "due": None,
}


@st.composite
def modal_values(draw: st.DrawFn, blocks: list[str]) -> dict[str, str | None]:
    """A value for each block (and a stray one): valid, fuzzed, or null; one in ten left out."""
    values: dict[str, str | None] = {}
    for block in [*blocks, "stray"]:
        kind = draw(st.sampled_from(["valid", "valid", "fuzzed", "fuzzed", "null", "words"]))
        value = {
            "valid": st.just(VALID.get(block)),
            "fuzzed": FIELD_VALUES.get(block, WORDS),
            "null": st.none(),
            "words": WORDS,
        }[kind]
        if draw(st.integers(0, 9)):
            values[block] = draw(value)
    return values


METADATA = st.one_of(st.none(), st.none(), ACTION_VALUES)  # None: what the app set


def view_submission(view: dict, metadata: str, values: dict[str, str | None], user: str) -> tuple[str, str]:
    state = {
        block: {"value": {"type": "x", ELEMENT_KEYS.get(block, "value"): v}} for block, v in values.items()
    }
    payload = {
        "type": "view_submission",
        "team": {"id": TEAM, "domain": "local"},
        "user": {"id": user, "team_id": TEAM},
        "api_app_id": payloads.APP_ID,
        "trigger_id": "trigger.fuzz",
        "view": {**view, "id": "VFUZZ", "private_metadata": metadata, "state": {"values": state}},
    }
    return urlencode({"payload": json.dumps(payload)}), FORM


# Junk with Slack's own keys holding values of the types Slack sends (wrong types: see
# test_signed_envelopes_of_the_wrong_shape) but made-up contents, and made-up keys.
TEXTS = st.one_of(st.text(max_size=20), ADVERSARIAL)
OBJECTS = st.fixed_dictionaries({}, optional={"id": TEXTS, "name": TEXTS, "domain": TEXTS, "ts": TEXTS})
EVENTS = st.fixed_dictionaries(
    {
        "type": st.one_of(
            st.sampled_from(["message", "app_mention", "app_home_opened", "reaction_added"]), TEXTS
        )
    },
    optional={
        **dict.fromkeys(["channel", "user", "ts", "thread_ts", "subtype", "bot_id"], TEXTS),
        "channel_type": st.sampled_from(["im", "channel", "group"]),
        "tab": st.sampled_from(["home", "messages"]),
    },
)
SLACK_TYPES = ["block_actions", "view_submission", "view_closed", "event_callback", "url_verification"]
SLACK_TYPES += ["shortcut", "message_action", "block_suggestion", "interactive_message", "app_rate_limited"]
SLACK_FIELDS: dict[str, st.SearchStrategy] = {
    "type": st.one_of(st.sampled_from(SLACK_TYPES), TEXTS),
    **dict.fromkeys(["team", "user", "channel", "enterprise", "container", "message"], OBJECTS),
    **dict.fromkeys(["team_id", "user_id", "channel_id", "api_app_id", "token", "trigger_id", "text"], TEXTS),
    "command": st.one_of(st.sampled_from(["/mlready", "/other"]), TEXTS),
    "challenge": TEXTS,
    "is_enterprise_install": st.booleans(),
    "authorizations": st.lists(
        st.fixed_dictionaries({"team_id": TEXTS, "user_id": TEXTS, "is_bot": st.booleans()}), max_size=2
    ),
    "event": EVENTS,
    "actions": st.lists(
        st.fixed_dictionaries({"action_id": UNKNOWN_ACTIONS}, optional={"value": TEXTS, "type": TEXTS}),
        max_size=2,
    ),
    "view": st.fixed_dictionaries(
        {"callback_id": TEXTS},
        optional={"type": TEXTS, "private_metadata": TEXTS, "state": st.just({"values": {}})},
    ),
}
ENVELOPES = st.builds(
    dict.__or__,
    st.fixed_dictionaries({}, optional=SLACK_FIELDS),
    st.dictionaries(st.text(max_size=8).filter(lambda k: k not in SLACK_FIELDS), JSON_VALUES, max_size=3),
)
# A form body's fields are all strings: Slack's keys that hold strings, and made-up keys.
STRING_KEYS = [k for k, v in SLACK_FIELDS.items() if v is TEXTS] + ["type", "command", "ssl_check", "payload"]
FORM_KEYS = st.one_of(st.sampled_from(STRING_KEYS), TEXTS.filter(lambda k: k not in SLACK_FIELDS))
JUNK_BODIES = st.one_of(
    st.tuples(
        st.one_of(ENVELOPES, JSON_VALUES).map(json.dumps), st.sampled_from([JSON, JSON + "; charset=utf-8"])
    ),
    st.tuples(ENVELOPES.map(lambda e: urlencode({"payload": json.dumps(e)})), st.just(FORM)),
    st.tuples(st.text(max_size=200).map(lambda p: urlencode({"payload": p})), st.just(FORM)),
    st.tuples(st.dictionaries(FORM_KEYS, TEXTS, max_size=6).map(urlencode), st.just(FORM)),
    st.tuples(st.text(max_size=200), st.sampled_from([JSON, FORM, "text/plain", ""])),
)


# ---------------------------------------------------------------- what may write, precisely


def command_may_write(app: RunningApp, text: str, user: str, channel: str) -> bool:
    parsed = parse(text)
    if parsed.name == "ask":
        return True
    with app.services.db.session() as session:
        project = channel_project(session, TEAM, channel)
        owner = project.owner_id if project else None
    if parsed.name == "project":
        verb, _, rest = parsed.args.strip().partition(" ")
        if verb.lower() == "create":
            return project is None and parses(clean_name, rest) and channel[:1] not in ("", "D")
        return verb.lower() == "archive" and owner == user
    if parsed.name == "signoff":
        return project is not None and parses(parse_request, parsed.args)
    if parsed.name == "remind":
        return project is not None and parses(parse_remind, parsed.args)
    if parsed.name in ("checklist", "export"):  # the post or the upload is queued as a job
        return project is not None
    return False


def parses(parser: Callable[[str], object], text: str) -> bool:
    try:
        parser(text)
    except (ProjectError, SignoffError, ScheduleError):
        return False
    return True


def click_may_write(fuzz: Fuzz, action_id: str, value: object, user: str) -> bool:
    decoded = decode(value) if isinstance(value, str) else {}
    with fuzz.app.services.db.session() as session:
        active = set(session.scalars(select(Project.id).where(Project.archived_at.is_(None))))
        answers = set(session.scalars(select(AnswerRecord.id)))
        theirs = set(session.scalars(select(Signoff.id).where(Signoff.stakeholder_id == user)))

    def names(key: str, existing: set[int]) -> bool:
        return type(decoded.get(key)) is int and decoded[key] in existing

    if action_id.startswith(f"{ids.CHECKLIST_RESPONSE}_"):
        item, answer = decoded.get("i"), decoded.get("v")
        return names("p", active) and item in YESNO_IDS and answer in [v.value for v in ResponseValue]
    if action_id == ids.REMINDER_SNOOZE:
        return names("p", active)
    if action_id in (ids.SIGNOFF_APPROVE, ids.SIGNOFF_REVOKE):
        return names("s", theirs)
    if action_id in (ids.FEEDBACK_HELPFUL, ids.FEEDBACK_NOT_HELPFUL):
        return int_or_none(value) in answers
    return False


def int_or_none(value: object) -> int | None:
    """What `int()` makes of a string (a feedback button's value is the answer id)."""
    try:
        return int(value) if isinstance(value, str) else None
    except ValueError:
        return None


def answered_with_errors(reply: Reply) -> bool:
    body = json.loads(reply.body) if reply.status == 200 and reply.body else {}
    return body.get("response_action") == "errors"


# ------------------------------------------------------------------------------- tests


@settings(FAST, max_examples=50)
@example(text="signoff <@U9> the \x00 goals", user="U2", channel="C1")  # NUL stored
@example(text=f"signoff <@U{'1' * 40}>", user="U2", channel="C1")  # longer than the column
@given(text=st.builds("{} {}".format, HEADS, ARGS), user=COMMAND_USERS, channel=CHANNELS)
def test_slash_commands(fuzz: Fuzz, text: str, user: str, channel: str) -> None:
    if parse(text).name == "ask":  # the model answers in test_ask; here, only the help about it
        text = "help " + text
    assume(clean(text))
    may_write = command_may_write(fuzz.app, text, user, channel)
    reply = exchange(
        fuzz, lambda app: app.command(text, user=user, channel=channel, raw=True), lambda _: not may_write
    )
    assert reply.status == 200


@settings(FAST, max_examples=3)
@given(
    question=st.text(min_size=1, max_size=300).filter(lambda q: q.strip() and clean(q) and "\x00" not in q)
)
def test_ask(fuzz: Fuzz, question: str) -> None:
    before = snapshot(fuzz.app)
    reply = exchange(fuzz, lambda app: app.command(f"ask {question}", user="U2", raw=True), lambda _: False)
    assert reply.status == 200
    after = snapshot(fuzz.app)
    assert {t for t in after if after[t] != before[t]} == {"jobs", "answer_records"}


KPI_BLOCKS = ["metric", "baseline", "target", "unit", "deadline", "owner"]
KPI_VALID = {b: VALID[b] for b in KPI_BLOCKS}


@settings(FAST, max_examples=40)
@example(metadata=None, values={**KPI_VALID, "baseline": "nan"}, user=OWNER)  # stored as NULL
@example(metadata=None, values={**KPI_VALID, "target": "1e999"}, user=OWNER)  # infinite
@example(metadata=None, values={**KPI_VALID, "metric": "ch\x00urn"}, user=OWNER)  # NUL stored
@example(metadata=None, values={**KPI_VALID, "owner": "U" + "1" * 40}, user=OWNER)  # error on no block
@example(metadata=encode(p=HUGE), values=KPI_VALID, user=OWNER)
@given(metadata=METADATA, values=modal_values(KPI_BLOCKS), user=CLICK_USERS)
def test_kpi_modal(fuzz: Fuzz, metadata: str | None, values: dict[str, str | None], user: str) -> None:
    check_modal(fuzz, fuzz.views[ids.KPI_MODAL], metadata, values, user)


@settings(FAST, max_examples=30)
@example(callback_id=ids.EVIDENCE_MODAL, metadata=None, values={"note": "no\x00te", "url": ""}, user=OWNER)
@example(callback_id=ids.EVIDENCE_MODAL, metadata=None, values={"url": "https://a.example/\x00"}, user=OWNER)
@example(callback_id=ids.ASSIGN_MODAL, metadata=encode(p=HUGE, i="objectives.scope"), values={}, user=OWNER)
@example(callback_id=ids.ASSIGN_MODAL, metadata=None, values={"assignee": "U\x00"}, user=OWNER)
@given(
    callback_id=st.sampled_from([ids.EVIDENCE_MODAL, ids.ASSIGN_MODAL]),
    metadata=METADATA,
    values=st.one_of(modal_values(["note", "url"]), modal_values(["assignee", "due"])),
    user=CLICK_USERS,
)
def test_item_modals(fuzz: Fuzz, callback_id: str, metadata: str | None, values: dict, user: str) -> None:
    check_modal(fuzz, fuzz.views[callback_id], metadata, values, user)


SIGNOFF_MODALS = st.sampled_from([ids.SIGNOFF_CHANGES_MODAL, ids.REMINDER_SIGNOFF_MODAL])


@settings(FAST, max_examples=30)
@example(
    callback_id=ids.SIGNOFF_CHANGES_MODAL, metadata=None, values={"comment": "no\x00pe"}, user=STAKEHOLDER
)
@example(
    callback_id=ids.SIGNOFF_CHANGES_MODAL,
    metadata=encode(s=HUGE),
    values={"comment": "no"},
    user=STAKEHOLDER,
)
@example(
    callback_id=ids.REMINDER_SIGNOFF_MODAL,
    metadata=None,
    values={"stakeholder": "U9", "what": "Q1\x00"},
    user=OWNER,
)
@example(
    callback_id=ids.REMINDER_SIGNOFF_MODAL,
    metadata=encode(p=HUGE),
    values={"stakeholder": "U9"},
    user=OWNER,
)
@given(
    callback_id=SIGNOFF_MODALS,
    metadata=METADATA,
    values=modal_values(["comment", "stakeholder", "what"]),
    user=CLICK_USERS,
)
def test_signoff_modals(
    fuzz: Fuzz, callback_id: str, metadata: str | None, values: dict[str, str | None], user: str
) -> None:
    check_modal(fuzz, fuzz.views[callback_id], metadata, values, user)


def check_modal(
    fuzz: Fuzz, view: dict, metadata: str | None, values: dict[str, str | None], user: str
) -> None:
    assume(clean(values))
    body = view_submission(view, view["private_metadata"] if metadata is None else metadata, values, user)
    reply = exchange(fuzz, lambda app: app.post(*body), answered_with_errors)
    assert reply.status == 200
    if reply.body:  # errors, each next to a block of the modal
        inputs = {
            b["block_id"] for b in view["blocks"] if b["type"] == "input"
        }  # Slack shows errors only there
        assert set(json.loads(reply.body)["errors"]) <= inputs


def test_unknown_modal(fuzz: Fuzz) -> None:
    view = {**fuzz.views[ids.KPI_MODAL], "callback_id": "no_such_modal"}
    body = view_submission(view, view["private_metadata"], {}, OWNER)
    assert exchange(fuzz, lambda app: app.post(*body), lambda _: True).status == 404


@settings(FAST, max_examples=50)
@example(action_id=ids.CHECKLIST_WHY, value=encode(p=HUGE), user=OWNER)
@example(action_id=ids.SIGNOFF_APPROVE, value=encode(s=HUGE), user=STAKEHOLDER)
@example(action_id=ids.FEEDBACK_HELPFUL, value=str(HUGE), user=OWNER)
@example(action_id=ids.SHARE_ANSWER, value=str(HUGE), user=OWNER)
@example(
    action_id=f"{ids.CHECKLIST_RESPONSE}_no", value=encode(p=True, i="objectives.scope", v="no"), user=OWNER
)
@given(action_id=KNOWN_ACTIONS, value=st.one_of(st.just(MISSING), ACTION_VALUES), user=CLICK_USERS)
def test_known_buttons(fuzz: Fuzz, action_id: str, value: object, user: str) -> None:
    may_write = click_may_write(fuzz, action_id, value, user)
    reply = exchange(
        fuzz, lambda app: app.click(action(action_id, value), user=user), lambda _: not may_write
    )
    assert reply.status == 200


@settings(FAST, max_examples=15)
@given(action_id=UNKNOWN_ACTIONS.filter(clean), value=ACTION_VALUES)
def test_unknown_buttons(fuzz: Fuzz, action_id: str, value: str) -> None:
    assert exchange(fuzz, lambda app: app.click(action(action_id, value)), lambda _: True).status == 404


def event(**fields: object) -> tuple[str, str]:
    return json.dumps({"type": "event_callback", "team_id": TEAM, "event": fields}), JSON


@settings(FAST, max_examples=60)
@example(body=event(type="message", user="U1", channel_type="im"))  # no channel
@example(body=event(type="app_mention", user="U1", channel="C1"))  # no ts
@example(body=event(type="app_home_opened", tab="home"))  # no user
@given(body=JUNK_BODIES.filter(clean))
def test_signed_junk(fuzz: Fuzz, body: tuple[str, str]) -> None:
    reply = exchange(fuzz, lambda app: app.post(*body), lambda _: False)
    assert reply.status in {200, *REJECTED_STATUS}


@settings(FAST, max_examples=15)
@given(
    body=st.one_of(
        st.text(max_size=200), st.builds("{} {}".format, HEADS, ARGS).map(lambda t: urlencode({"text": t}))
    ),
    how=st.sampled_from(["unsigned", "wrong secret", "stale"]),
)
def test_unsigned_requests(fuzz: Fuzz, body: str, how: str) -> None:
    options = {"unsigned": {"sign": False}, "wrong secret": {"secret": "not-it"}, "stale": {"timestamp": 1}}
    assert exchange(fuzz, lambda app: app.post(body, FORM, **options[how]), lambda _: True).status == 401


# ---------------------------------------------------------------- inputs that once crashed


def timezone_crashes(text: str) -> bool:
    """`/mlready remind timezone America` (a folder of tzdata) or a name over 255 bytes: ZoneInfo
    raises OSError, which bot/reminders/schedule.py check_timezone does not catch."""
    parsed = parse(text)
    words = parsed.args.split() if parsed.name == "remind" else []
    if len(words) != 2 or words[0].lower() not in ("timezone", "tz"):
        return False
    try:
        ZoneInfo(words[1])
    except OSError:
        return True
    except Exception:
        return False
    return False


@pytest.mark.parametrize("name", ["America", "x" * 300])
def test_remind_timezone_of_a_folder_or_too_long(fuzz: Fuzz, name: str) -> None:
    text = f"remind timezone {name}"
    assert timezone_crashes(text)
    assert exchange(fuzz, lambda app: app.command(text, user="U2", raw=True), lambda _: True).status == 200


@pytest.mark.parametrize(
    "body",
    [
        ('{"type": "block_actions", "actions": null}', JSON),
        ('{"type": "block_actions", "actions": [{}]}', JSON),
        ('{"type": "view_submission", "view": null}', JSON),
        ('{"type": "event_callback", "event": []}', JSON),
        ('{"team": 1}', JSON),
        (urlencode({"payload": '{"type": "block_actions", "actions": [1]}'}), FORM),
        ("authorizations=0", FORM),
        # issue 12: deep nesting, a repeated payload key, a form body that is JSON, wrong-type views
        ('{"a":' * 50_000 + "1" + "}" * 50_000, JSON),
        (urlencode([("payload", '{"type": "block_actions"}'), ("payload", "{}")]), FORM),
        ('{"type": "view_submission", "view": {}}', FORM),
        (urlencode({"payload": json.dumps({"type": "view_submission", "view": {"state": []}})}), FORM),
        (
            urlencode(
                {
                    "payload": json.dumps(
                        {
                            "type": "view_submission",
                            "view": {"callback_id": ids.KPI_MODAL, "state": {"values": 5}},
                        }
                    )
                }
            ),
            FORM,
        ),
    ],
)
def test_signed_envelopes_of_the_wrong_shape(fuzz: Fuzz, body: tuple[str, str]) -> None:
    assert exchange(fuzz, lambda app: app.post(*body), lambda _: True).status in REJECTED_STATUS


def test_unhandled_event_stores_nothing(fuzz: Fuzz) -> None:
    body = json.dumps({"type": "event_callback", "event_id": "EvFUZZ1", "event": {"type": "no_such_event"}})
    assert exchange(fuzz, lambda app: app.post(body, JSON), lambda _: True).status == 404


def test_question_with_nul(fuzz: Fuzz) -> None:
    assert exchange(fuzz, lambda app: app.command("ask how\x00 to pick a KPI?", user="U2"), lambda _: False)
