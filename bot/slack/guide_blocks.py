"""Block Kit for whole guides: the Read the guide modal (paged), and a guide's worked example or
team questions posted privately."""

from __future__ import annotations

import re

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
)
from slack_sdk.models.views import View

from bot.answers import EXAMPLE_SECTION, QUESTIONS_SECTION, category_title
from bot.slack import ids
from bot.slack.action_values import GuideRef
from bot.slack.blocks import button, escape, sections, split_text
from indexer.chunking import split_sections
from indexer.knowledge import KnowledgeDoc

PAGE_CHARS = 9000  # per modal page; a page of a guide stays well inside Slack's 100 blocks
MODAL_TITLE = "Guide"
HEADER_LIMIT = 150

_HEADING = re.compile(r"^#{2,6}\s+(.+?)\s*#*$")
_BULLET = re.compile(r"^(\s*)(?:[-*+])\s+")
_BOLD = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")
_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+)\)")


def mrkdwn(markdown: str) -> str:
    """A guide's Markdown as Slack mrkdwn: headings bold, bullets as •, links as <url|text>.
    The text is escaped first, so nothing in a guide can mention or link by accident."""
    out: list[str] = []
    for line in markdown.splitlines():
        line = escape(line)
        heading = _HEADING.match(line)
        if heading:
            out += ["", f"*{heading.group(1)}*"]
            continue
        line = _BULLET.sub(lambda m: m.group(1) + "• ", line)
        line = _BOLD.sub(lambda m: f"*{m.group(1) or m.group(2)}*", line)
        line = _LINK.sub(lambda m: f"<{m.group(2)}|{m.group(1)}>", line)
        out.append(line)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip()


def guide_pages(doc: KnowledgeDoc) -> list[list[str]]:
    """The guide and its sources as section texts, grouped into modal pages."""
    sources = "\n".join(f"• {escape(s)}" for s in doc.meta.sources)
    pieces = split_text(mrkdwn(doc.body) + f"\n\n*Sources*\n{sources}")
    pages: list[list[str]] = [[]]
    size = 0
    for piece in pieces:
        if pages[-1] and size + len(piece) > PAGE_CHARS:
            pages.append([])
            size = 0
        pages[-1].append(piece)
        size += len(piece)
    return pages


def guide_modal(doc: KnowledgeDoc, page: int = 0) -> View:
    pages = guide_pages(doc)
    page = min(max(page, 0), len(pages) - 1)
    blocks: list[Block] = [
        HeaderBlock(text=doc.meta.title[:HEADER_LIMIT]),
        ContextBlock(elements=[MarkdownTextObject(text=f"Guide on _{category_title(doc.meta.category)}_")]),
    ]
    blocks += [b for text in pages[page] for b in sections(text)]
    if len(pages) > 1:
        nav = []
        if page > 0:
            nav.append(
                button("◀ Previous", ids.GUIDE_PAGE + "_prev", GuideRef(doc=doc.id, page=page - 1).value())
            )
        if page < len(pages) - 1:
            nav.append(
                button("Next ▶", ids.GUIDE_PAGE + "_next", GuideRef(doc=doc.id, page=page + 1).value())
            )
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"Page {page + 1} of {len(pages)}")]))
        blocks.append(ActionsBlock(elements=nav))
    return View(
        type="modal",
        title=MODAL_TITLE,
        close="Close",
        blocks=blocks,
        private_metadata=GuideRef(doc=doc.id, page=page).value(),
    )


def guide_part_blocks(doc: KnowledgeDoc, section: str) -> tuple[str, list[Block]]:
    """A guide's worked example or its questions for the team: (fallback text, blocks)."""
    parts = {s.heading: s.units for s in split_sections(doc.body)}
    units = parts.get(section, ())
    title = escape(doc.meta.title)
    if not units:
        text = f"The guide _{title}_ has no {section.lower()} section."
        return text, sections(text)
    if section == EXAMPLE_SECTION:
        heading = f"*Worked example* from _{title}_ (illustrative: adapt the numbers to your case)"
        body = " ".join(escape(u) for u in units)
    elif section == QUESTIONS_SECTION:
        heading = f"*Questions for your team* from _{title}_"
        body = "\n".join(f"• {escape(u)}" for u in units)
    else:
        heading, body = f"*{escape(section)}* from _{title}_", "\n".join(escape(u) for u in units)
    fallback = f"{section} from {title}"
    return fallback, sections(f"{heading}\n{body}")
