"""Rules for untrusted text: escaping, user ids, and which characters names and KPIs may hold."""

from __future__ import annotations

from datetime import date

import pytest

from bot.projects import ProjectError, clean_name
from bot.readiness import parse_kpi
from bot.text import escape_mrkdwn, is_user_id, unsafe_character, without_unsafe_characters

TODAY = date(2026, 12, 2)


def test_escape_mrkdwn() -> None:
    assert escape_mrkdwn("<!channel> & <https://x|y>") == "&lt;!channel&gt; &amp; &lt;https://x|y&gt;"


@pytest.mark.parametrize("value", ["U123ABC", "W0ABC", "U1"])
def test_user_ids(value: str) -> None:
    assert is_user_id(value)


@pytest.mark.parametrize("value", ["", "u123", "C123", "U12 3", "<@U1>", "U" + "1" * 40, "U1\x00"])
def test_not_user_ids(value: str) -> None:
    assert not is_user_id(value)


def test_emoji_sequences_are_fine_and_direction_overrides_are_not() -> None:
    assert clean_name("👩\u200d💻 Coders 🏳️\u200d🌈") == "👩\u200d💻 Coders 🏳️\u200d🌈"
    for bad in ("evil\u202eledom", "a\u2066b", "nul\x00", "bell\x07"):
        with pytest.raises(ProjectError, match="control or text-direction"):
            clean_name(bad)
    assert unsafe_character("line\nbreak", allow_line_breaks=True) is None
    assert without_unsafe_characters("a\u202eb\x00c\nd") == "abc\nd"


def test_kpi_text_refuses_direction_overrides_and_checks_the_owner() -> None:
    raw = {"metric": "churn \u202e%", "baseline": "4", "target": "3", "owner_id": "U1"}
    kpi, errors = parse_kpi(raw, TODAY)
    assert kpi is None and errors == {"metric": "Remove the text-direction control characters"}
    kpi, errors = parse_kpi({**raw, "metric": "churn", "owner_id": "<!here>"}, TODAY)
    assert kpi is None and "owner_id" in errors
    kpi, errors = parse_kpi({**raw, "metric": "👩\u200d💻 tickets solved"}, TODAY)
    assert kpi is not None and not errors
