"""The `/mlready` command grammar, parsed into plain values (no Slack types here)."""

from __future__ import annotations

import re
from dataclasses import dataclass

COMMAND = "/mlready"

# (usage, what it does, example), in the order help shows them.
HELP_LINES: list[tuple[str, str, str]] = [
    (
        "ask <question>",
        "answers just for you, with a button to share it",
        "/mlready ask how do we pick a KPI for churn?",
    ),
    (
        "checklist [category]",
        "runs the readiness checklist for this channel's project",
        "/mlready checklist kpis",
    ),
    ("status", "shows the project's readiness score and blocking gaps", "/mlready status"),
    (
        "project create <name> [--template T]",
        "binds this channel to a new ML project, on a checklist template (default, genai, quick or "
        "your workspace's own)",
        "/mlready project create Churn model --template quick",
    ),
    (
        "project upgrade",
        "moves the project to the newest version of its checklist template (owner only)",
        "/mlready project upgrade",
    ),
    ("project", "shows this channel's project, owner and score", "/mlready project"),
    ("signoff @user", "asks a stakeholder to sign off objectives and KPIs", "/mlready signoff @dana"),
    ("project archive", "archives this channel's project (owner only)", "/mlready project archive"),
    ("export", "uploads the project's readiness report to the channel", "/mlready export"),
    ("remind ...", "sets reminders about open gaps", "/mlready remind weekly mon 09:30"),
    ("help", "shows this list", "/mlready help"),
]
KNOWN = {"ask", "help", "checklist", "status", "project", "signoff", "remind", "export"}


# Slack's markup in text it sends: <@U123|dana>, <#C123|general>, <!here>, <https://x|label>
MARKUP_RE = re.compile(r"<([@#!]?)([^<>|]*)(?:\|([^<>]*))?>")


def plain_text(text: str) -> str:
    """Text as Slack sends it (mentions, channels and links in <...>, and &, <, > escaped) as the
    person typed it: `<@U1|dana>` → `@dana`, `<https://x|x>` → `https://x`, `&amp;` → `&`."""

    def readable(match: re.Match[str]) -> str:
        sigil, target, label = match.groups()
        if sigil in ("@", "#"):
            return sigil + (label or target)
        if sigil == "!":
            name = label or target.split("^")[0]
            return name if name.startswith("@") else "@" + name
        return label or target

    return MARKUP_RE.sub(readable, text).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


# "--template quick"; Slack clients may turn "--" into an em or en dash as the user types.
_OPTION_RE = r"(?:^|\s)(?:--|\u2014|\u2013){name}(?:\s+|=)(\S+)\s*$"


def take_option(text: str, name: str) -> tuple[str, str | None]:
    """Split a trailing `--name value` off the arguments: (the rest, the value or None)."""
    match = re.search(_OPTION_RE.format(name=re.escape(name)), text)
    if match is None:
        return text, None
    return text[: match.start()].strip(), match.group(1)


@dataclass(frozen=True)
class ParsedCommand:
    name: str  # one of KNOWN; "help" for anything unknown or empty
    args: str
    unknown: str | None = None  # the word that was not understood, if any


def parse(text: str) -> ParsedCommand:
    words = text.strip().split(maxsplit=1)
    if not words:
        return ParsedCommand("help", "")
    head = words[0].lower()
    rest = words[1].strip() if len(words) > 1 else ""
    if head not in KNOWN:
        return ParsedCommand("help", "", unknown=words[0][:50])
    if head == "ask" and not rest:
        return ParsedCommand("help", "", unknown=None)
    return ParsedCommand(head, rest)


def help_text() -> str:
    lines = [
        "*mlready* helps your team find out early whether an ML project is set up to fail.",
        "Mention me with a question (`@mlready how do we monitor drift?`), send me a direct message, or use:",
    ]
    lines += [f"• `{COMMAND} {usage}`: {what} (e.g. `{example}`)" for usage, what, example in HELP_LINES]
    return "\n".join(lines)
