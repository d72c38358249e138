""""""

from __future__ import annotations

import pytest

from bot.command_grammar import parse


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
