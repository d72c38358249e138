"""Typed button values and modal metadata: what an interactive element carries, parsed and
checked before anything acts on it. The short JSON keys ("p", "i", ...) are the wire format of
buttons already posted in Slack, so they stay."""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from indexer.knowledge import SLUG_RE


class ActionValue(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def value(self) -> str:
        return self.model_dump_json(by_alias=True, exclude_defaults=True)

    @classmethod
    def parse(cls, raw: object) -> Self | None:
        """None for anything this app did not write (forged, stale or of another button)."""
        if not isinstance(raw, str) or len(raw) > 2000:
            return None
        try:
            return cls.model_validate_json(raw)
        except ValidationError:
            return None


class ProjectRef(ActionValue):
    project: int = Field(alias="p", ge=1, le=2**31 - 1, strict=True)  # an INTEGER key on PostgreSQL


class ChecklistResponse(ProjectRef):
    item: str = Field(alias="i", min_length=1, max_length=80)
    response: str = Field(alias="v", min_length=1, max_length=10)


class ChecklistItemRef(ProjectRef):
    item: str = Field(alias="i", min_length=1, max_length=80)


class ChecklistPage(ProjectRef):
    category: str = Field(alias="c", min_length=1, max_length=40)


class KpiOpen(ProjectRef):
    from_checklist: bool = Field(default=False, alias="m")  # re-render that checklist after saving


class MessageRef(ActionValue):
    """A modal's checklist message to re-render after saving, if any."""

    channel: str | None = Field(default=None, alias="c", max_length=32)
    ts: str | None = Field(default=None, alias="t", max_length=32)


class KpiModal(ProjectRef, MessageRef):
    """The KPI modal's private metadata."""


class ItemModal(ChecklistItemRef, MessageRef):
    """The note / link and Assign modals' private metadata: the item and its message."""


class Snooze(ProjectRef):
    days: int = Field(default=3, alias="d", ge=1, le=30, strict=True)


class SignoffRef(ActionValue):
    signoff: int = Field(alias="s", ge=1, le=2**31 - 1, strict=True)


class GuideRef(ActionValue):
    """A knowledge guide, and the page of it a modal shows."""

    doc: str = Field(min_length=1, max_length=80, pattern=SLUG_RE.pattern)
    page: int = Field(default=0, ge=0, le=50, strict=True)
