"""Rules for untrusted text from users: which characters may be stored and shown, and what a
Slack user id looks like. No Slack imports: these are plain string checks."""

from __future__ import annotations

import re
import unicodedata

USER_ID_RE = re.compile(r"^[UW][A-Z0-9]{1,31}$")

# Characters that reorder how text around them is displayed (a name that reads "ledom" in a
# list can be "model" underneath); refused in names and KPI text.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def escape_mrkdwn(text: str) -> str:
    """Slack's control characters escaped, so a user's `<!channel>` or link shows as typed;
    everything else is shown as written. For every user string in mrkdwn and fallback text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def markdown_cell(text: str) -> str:
    """User text inside a Markdown table cell: one line, no column breaks."""
    return " ".join(text.split()).replace("|", "\\|")


def is_user_id(value: str) -> bool:
    return bool(USER_ID_RE.match(value))


def unsafe_character(text: str, allow_line_breaks: bool = False) -> str | None:
    """What is wrong with `text`, or None. Control characters (PostgreSQL cannot store NUL),
    unpaired surrogates and bidirectional overrides are refused; joiners such as the one in an
    emoji sequence (👩‍💻) are fine."""
    for ch in text:
        if allow_line_breaks and ch in "\n\t":
            continue
        if ch in BIDI_CONTROLS:
            return "Remove the text-direction control characters"
        if unicodedata.category(ch) in ("Cc", "Cs"):
            return "Remove the control characters"
    return None


def checked_text(text: str, allow_line_breaks: bool = False) -> str:
    """`text` unchanged, or ValueError saying what to remove: for pydantic field validators."""
    problem = unsafe_character(text, allow_line_breaks)
    if problem:
        raise ValueError(problem)
    return text


def without_unsafe_characters(text: str) -> str:
    """`text` with the characters `unsafe_character` refuses removed; line breaks and tabs stay."""
    return "".join(ch for ch in text if unsafe_character(ch, allow_line_breaks=True) is None)
