"""The retriever names, kept apart so the CLI can offer them without importing search code."""

from enum import StrEnum


class Retriever(StrEnum):
    dense = "dense"
    bm25 = "bm25"
    hybrid = "hybrid"
