"""Typed button values: what a button carries, parsed and checked before anything acts on it."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from indexer.knowledge import SLUG_RE


class GuideRef(BaseModel):
    """A knowledge guide, and the page of it a modal shows."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    doc: str = Field(min_length=1, max_length=80, pattern=SLUG_RE.pattern)
    page: int = Field(default=0, ge=0, le=50)

    def value(self) -> str:
        return self.model_dump_json(exclude_defaults=True)

    @classmethod
    def parse(cls, raw: object) -> GuideRef | None:
        """None for anything that is not a value this app wrote (forged or stale)."""
        if not isinstance(raw, str) or len(raw) > 200:
            return None
        try:
            return cls.model_validate_json(raw)
        except ValidationError:
            return None
