"""The `/mlready` grammar and the text Slack sends for it."""

from __future__ import annotations

import pytest

from bot.command_grammar import parse, plain_text


@pytest.mark.parametrize(
    ("text", "name", "args", "unknown"),
    [
        ("", "help", "", None),
        ("help", "help", "", None),
        ("ASK How do we pick a KPI?", "ask", "How do we pick a KPI?", None),
        ("ask", "help", "", None),
        ("checklist kpis", "checklist", "kpis", None),
        ("project create Churn model", "project", "create Churn model", None),
        ("signoff <@U123|dana>", "signoff", "<@U123|dana>", None),
        ("dance", "help", "", "dance"),
    ],
)
def test_command_grammar(text: str, name: str, args: str, unknown: str | None) -> None:
    parsed = parse(text)
    assert (parsed.name, parsed.args, parsed.unknown) == (name, args, unknown)


@pytest.mark.parametrize(
    ("sent", "typed"),
    [
        ("what &amp; why &lt;b&gt;", "what & why <b>"),
        ("ask <@U1|dana> and <#C1|general>", "ask @dana and #general"),
        ("see <https://example.com/a?b=1&amp;c=2>", "see https://example.com/a?b=1&c=2"),
        ("see <https://example.com|the docs> <!here>", "see the docs @here"),
        ("<!subteam^S1|@ml-team> now", "@ml-team now"),
    ],
)
def test_plain_text_undoes_slacks_escaping(sent: str, typed: str) -> None:
    assert plain_text(sent) == typed
