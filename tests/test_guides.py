"""Whole guides from an answer: Read the guide (paged modal), Related, Example and Questions for
your team, through the signed endpoint and the local Slack Web API; and their builders."""

from __future__ import annotations

import json
from pathlib import Path

from bot.answers import Answer, GuideLink, Line, Source
from bot.slack import blocks as ui
from bot.slack import guide_blocks, ids, payloads
from bot.slack.action_values import GuideRef
from bot.slack.local_api import LocalSlackAPI
from indexer.knowledge import parse_document
from tests.conftest import write_doc
from tests.slack_harness import TEAM, RunningApp
from tests.test_slack_app import _buttons, _texts, mention


def _answer(**kw: object) -> Answer:
    base = dict(
        question="q",
        answered=True,
        confidence=0.7,
        answer="• Do the thing. [1]",
        sources=[Source("kpis-choosing-a-kpi", "Choosing a KPI", "What to do", "kpis", 1.0)],
        lines=[Line("kpis-choosing-a-kpi#what-to-do-1", "Do the thing.", 0, "What to do")],
        guide="kpis-choosing-a-kpi",
        related=[GuideLink("kpis-baselines", "Measure the baseline"), GuideLink("x-y", "Other")],
    )
    base.update(kw)
    return Answer(**base)  # type: ignore[arg-type]


def test_answer_blocks_carry_guide_buttons_and_a_labelled_summary() -> None:
    blocks = ui.to_dicts(ui.answer_blocks(_answer(summary="Pick <!channel> one KPI. [1]"), 7))
    buttons = _buttons(blocks)
    assert GuideRef.parse(buttons[ids.GUIDE_READ]["value"]) == GuideRef(doc="kpis-choosing-a-kpi")
    assert buttons[ids.GUIDE_EXAMPLE]["text"]["text"] == "Example"
    assert buttons[ids.GUIDE_QUESTIONS]["text"]["text"] == "Questions for your team"
    assert GuideRef.parse(buttons[f"{ids.GUIDE_READ}_related_1"]["value"]).doc == "kpis-baselines"
    assert f"{ids.GUIDE_READ}_related_2" in buttons
    text = _texts(blocks)
    assert "_Summary (generated, checked against the quoted lines below)_" in text
    assert "&lt;!channel&gt;" in text and "<!channel>" not in text
    assert ui.fallback_text(_answer(answer="• a <@U1> [1]")) == "• a &lt;@U1&gt; [1]"


def test_near_domain_decline_offers_the_nearest_guides() -> None:
    declined = _answer(
        answered=False, sources=[], lines=[], guide=None, near_domain=True, closest_topics=["Serving"]
    )
    blocks = ui.to_dicts(ui.answer_blocks(declined, 1))
    assert "not covering your question in depth" in _texts(blocks)
    assert f"{ids.GUIDE_READ}_related_1" in _buttons(blocks)


def test_the_modal_shows_the_whole_guide_escaped() -> None:
    doc = parse_document(Path(__file__).parents[1] / "knowledge/docs/kpis/kpis-choosing-a-kpi.md")
    view = guide_blocks.guide_modal(doc).to_dict()
    assert view["type"] == "modal" and len(view["title"]["text"]) <= 24
    text = _texts(view["blocks"])
    for heading in ("*What goes wrong*", "*What to do*", "*Worked example*", "*Sources*"):
        assert heading in text
    assert "• Trace the causal chain" in text
    assert GuideRef.parse(view["private_metadata"]) == GuideRef(doc=doc.id)


def test_a_long_guide_is_paged(tmp_path: Path) -> None:
    body = "Intro <@U1> & more.\n\n" + "\n\n".join(
        f"## Part {n}\n" + " ".join(f"Sentence {n}.{k} about drift." * 3 for k in range(60)) for n in range(8)
    )
    doc = parse_document(write_doc(tmp_path, "kpis-long", body=body))
    pages = guide_blocks.guide_pages(doc)
    assert len(pages) > 2
    first = guide_blocks.guide_modal(doc, 0).to_dict()
    nav = _buttons(first["blocks"])
    assert list(nav) == [f"{ids.GUIDE_PAGE}_next"]
    assert GuideRef.parse(nav[f"{ids.GUIDE_PAGE}_next"]["value"]) == GuideRef(doc="kpis-long", page=1)
    assert "&lt;@U1&gt; &amp; more" in _texts(first["blocks"])
    last = guide_blocks.guide_modal(doc, 99).to_dict()  # clamped to the last page
    assert list(_buttons(last["blocks"])) == [f"{ids.GUIDE_PAGE}_prev"]
    for view in (first, last):
        assert len(view["blocks"]) <= 100
        assert all(len(b["text"]["text"]) <= 3000 for b in view["blocks"] if b["type"] == "section")


def test_guide_values_are_checked() -> None:
    assert GuideRef.parse('{"doc":"kpis-baselines"}') == GuideRef(doc="kpis-baselines")
    for forged in (
        "",
        "7",
        '{"doc":"../etc"}',
        '{"doc":"a","page":-1}',
        '{"doc":"a","x":1}',
        None,
        "x" * 500,
    ):
        assert GuideRef.parse(forged) is None


def _click(running: RunningApp, element: dict, name: str) -> None:
    running.click({"action_id": element["action_id"], "value": element["value"]}, response_name=name)


def test_guide_buttons_end_to_end(start_app, slack: LocalSlackAPI) -> None:
    running: RunningApp = start_app()
    running.event(mention("how do we pick a KPI for a churn model?", ts="70.1"))
    answer = slack.wait_for("chat.postMessage", 1)[0].params
    buttons = _buttons(answer["blocks"])
    assert "What to do" in _texts(answer["blocks"])

    _click(running, buttons[ids.GUIDE_READ], "read")
    view = slack.wait_for("views.open", 1)[0].params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["blocks"][0]["text"]["text"] == "Choosing a KPI the business cares about"

    _click(running, buttons[f"{ids.GUIDE_READ}_related_1"], "related")
    related = slack.wait_for("views.open", 2)[1].params["view"]
    related = json.loads(related) if isinstance(related, str) else related
    assert (
        GuideRef.parse(related["private_metadata"]).doc
        == GuideRef.parse(buttons[f"{ids.GUIDE_READ}_related_1"]["value"]).doc
    )

    _click(running, buttons[ids.GUIDE_EXAMPLE], "example")
    _click(running, buttons[ids.GUIDE_QUESTIONS], "questions")
    running.idle()
    replies = {c.params["_response_id"]: c.params for c in slack.calls_to("response_url")}
    assert replies["example"]["response_type"] == "ephemeral"
    assert "illustrative" in _texts(replies["example"]["blocks"])
    assert "800,000 subscribers" in _texts(replies["example"]["blocks"])
    assert "Which business number will the sponsor look at" in _texts(replies["questions"]["blocks"])

    # A forged or stale value gets a private note, and opens nothing.
    running.click({"action_id": ids.GUIDE_READ, "value": '{"doc":"no-such-guide"}'}, response_name="forged")
    running.click({"action_id": ids.GUIDE_EXAMPLE, "value": "junk"}, response_name="junk")
    running.idle()
    replies = {c.params["_response_id"]: c.params for c in slack.calls_to("response_url")}
    assert "can't find that guide" in replies["forged"]["text"]
    assert "can't find that guide" in replies["junk"]["text"]
    assert len(slack.calls_to("views.open")) == 2


def test_page_buttons_only_turn_the_guide_their_modal_shows(start_app, slack: LocalSlackAPI) -> None:
    running: RunningApp = start_app()
    shown = {"id": "V9", "hash": "h1", "private_metadata": GuideRef(doc="kpis-baselines").value()}
    turn = {"action_id": f"{ids.GUIDE_PAGE}_next", "value": GuideRef(doc="kpis-baselines", page=1).value()}
    forged = {"action_id": f"{ids.GUIDE_PAGE}_next", "value": GuideRef(doc="kpis-error-costs").value()}
    assert (
        running.post(*payloads.view_block_action(forged, team_id=TEAM, user_id="U1", view=shown)).status
        == 200
    )
    assert (
        running.post(*payloads.view_block_action(turn, team_id=TEAM, user_id="U1", view=shown)).status == 200
    )
    updates = slack.wait_for("views.update", 1)
    running.idle()
    assert len(slack.calls_to("views.update")) == 1
    assert updates[0].params["view_id"] == "V9" and updates[0].params["hash"] == "h1"


def test_readiness_question_in_a_project_channel_lists_its_gaps(start_app, slack: LocalSlackAPI) -> None:
    running: RunningApp = start_app()
    assert running.command("project create Launchpad").status == 200
    running.event(mention("we're about to launch, what are we missing?", ts="80.1"))
    post = slack.wait_for("chat.postMessage", 1)[0].params
    text = _texts(post["blocks"])
    assert "blocking checklist items" in text
    assert "In *Launchpad*" in text and "blocking items still open" in text and "/mlready checklist" in text
