"""Settings from the environment or a `.env` file (pydantic-settings)."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from indexer.knowledge import shipped_knowledge_dir

# Tuned on bench/devset.yaml (see bench/RESULTS.md): below this cosine similarity between
# the question and the best passages, a question is declined as off-topic.
DEFAULT_DECLINE_THRESHOLD = 0.40


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MLREADY_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    index_dir: Path = Field(default=Path(".mlready/index"))
    knowledge_dirs: str = Field(default="", description="extra knowledge folders, separated by ':' or ','")
    model_path: Path | None = None
    decline_threshold: float = Field(default=DEFAULT_DECLINE_THRESHOLD, ge=0.0, le=1.0)

    @property
    def extra_knowledge_dirs(self) -> list[Path]:
        parts = self.knowledge_dirs.replace(",", os.pathsep).split(os.pathsep)
        return [Path(p).expanduser() for p in parts if p.strip()]

    def all_knowledge_dirs(self, extra: list[Path] | None = None) -> list[Path]:
        dirs = [shipped_knowledge_dir(), *self.extra_knowledge_dirs, *(extra or [])]
        unique: list[Path] = []
        for d in dirs:
            if d.resolve() not in {u.resolve() for u in unique}:
                unique.append(d)
        return unique
