"""YAML parsing for every file mlready reads: the knowledge base's front matter, categories,
checklists and templates, question files and the manifest."""

from __future__ import annotations

from typing import Any

import yaml

# libyaml's loader where PyYAML was built with it: the same safe subset, about ten times faster
# than the pure-Python one, which took a third of a second of every start on 70 guides.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_LOADER)
