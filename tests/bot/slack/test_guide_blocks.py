"""Guide blocks: the guide buttons on answers, the paged guide modal, typed guide values."""

from __future__ import annotations

from pathlib import Path

from bot.answers import Answer, GuideLink, Line, Source
from bot.slack import blocks as ui
from bot.slack import guide_blocks, ids
from bot.slack.action_values import GuideRef
from indexer.knowledge import parse_document
from tests.conftest import write_doc
from tests.slack_harness import block_buttons, block_texts


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
    buttons = block_buttons(blocks)
    assert GuideRef.parse(buttons[ids.GUIDE_READ]["value"]) == GuideRef(doc="kpis-choosing-a-kpi")
    assert buttons[ids.GUIDE_EXAMPLE]["text"]["text"] == "Example"
    assert buttons[ids.GUIDE_QUESTIONS]["text"]["text"] == "Questions for your team"
    assert GuideRef.parse(buttons[f"{ids.GUIDE_READ}_related_1"]["value"]).doc == "kpis-baselines"
    assert f"{ids.GUIDE_READ}_related_2" in buttons
    text = block_texts(blocks)
    assert "_Summary (generated, checked against the quoted lines below)_" in text
    assert "&lt;!channel&gt;" in text and "<!channel>" not in text
    assert ui.fallback_text(_answer(answer="• a <@U1> [1]")) == "• a &lt;@U1&gt; [1]"


def test_near_domain_decline_offers_the_nearest_guides() -> None:
    declined = _answer(
        answered=False, sources=[], lines=[], guide=None, near_domain=True, closest_topics=["Serving"]
    )
    blocks = ui.to_dicts(ui.answer_blocks(declined, 1))
    assert "not covering your question in depth" in block_texts(blocks)
    assert f"{ids.GUIDE_READ}_related_1" in block_buttons(blocks)


def test_the_modal_shows_the_whole_guide_escaped() -> None:
    doc = parse_document(Path(__file__).parents[3] / "knowledge/docs/kpis/kpis-choosing-a-kpi.md")
    view = guide_blocks.guide_modal(doc).to_dict()
    assert view["type"] == "modal" and len(view["title"]["text"]) <= 24
    text = block_texts(view["blocks"])
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
    nav = block_buttons(first["blocks"])
    assert list(nav) == [f"{ids.GUIDE_PAGE}_next"]
    assert GuideRef.parse(nav[f"{ids.GUIDE_PAGE}_next"]["value"]) == GuideRef(doc="kpis-long", page=1)
    assert "&lt;@U1&gt; &amp; more" in block_texts(first["blocks"])
    last = guide_blocks.guide_modal(doc, 99).to_dict()  # clamped to the last page
    assert list(block_buttons(last["blocks"])) == [f"{ids.GUIDE_PAGE}_prev"]
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
