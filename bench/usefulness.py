"""Answer usefulness before and after, in one run: the same question files answered by the
current tree and by an earlier commit (checked out into a temporary git worktree with its own
index), scored the same way from each answer's JSON.

    .venv/bin/python bench/usefulness.py --baseline a40bf5d

Prints a Markdown table for bench/RESULTS.md. Figures: category hit@1/hit@3, off-topic
declined, on-topic wrongly declined, advice share and answers without advice (on questions
asking what to do), ideal recall, and warm answer p95 beside the bare query-embedding p95.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.evaluation import ASKS_FOR_ADVICE, percentile  # noqa: E402
from indexer.chunking import chunk_document  # noqa: E402
from indexer.knowledge import load_documents, shipped_knowledge_dir  # noqa: E402

# Runs inside the tree being measured: answers every question from one warm engine.
DRIVER = r"""
import json, sys, time
from bot.settings import Settings
from bot.knowledge_base import open_engine
engine = open_engine(Settings())
questions = json.load(sys.stdin)
engine.ask("warm-up question about KPIs")
answers, embed_ms = [], []
for q in questions:
    started = time.perf_counter()
    a = engine.ask(q)
    ms = (time.perf_counter() - started) * 1000
    d = a.to_json()
    d["ranked_categories"] = a.ranked_categories
    d["ms"] = ms
    answers.append(d)
for q in questions:
    started = time.perf_counter()
    engine.embedder.encode_query(q)
    embed_ms.append((time.perf_counter() - started) * 1000)
print(json.dumps({"answers": answers, "embed_ms": embed_ms}))
"""
LINE_RE = re.compile(r"^• (.*) \[(\d+)\]$")


def unit_ids() -> dict[str, tuple[str, str]]:
    """Unit text -> (id, section), to score answers that predate line ids."""
    out: dict[str, tuple[str, str]] = {}
    for doc in load_documents([shipped_knowledge_dir() / "docs"]):
        for unit in chunk_document(doc)[0]:
            out.setdefault(unit.text, (unit.id, unit.section))
    return out


def lines_of(answer: dict, units: dict[str, tuple[str, str]]) -> list[tuple[str, str]]:
    """(id, section) of each answer line."""
    if "lines" in answer:
        return [(line["id"], line["section"]) for line in answer["lines"]]
    found = []
    for raw in answer["answer"].splitlines():
        match = LINE_RE.match(raw)
        if match:
            source = answer["sources"][int(match.group(2)) - 1]
            found.append((units.get(match.group(1), ("?", ""))[0], source["section"]))
    return found


def run_tree(tree: Path, index_dir: Path, questions: list[str]) -> dict:
    env = dict(os.environ, PYTHONPATH=str(tree), MLREADY_INDEX_DIR=str(index_dir), HF_HUB_OFFLINE="1")
    env.pop("MLREADY_LLM_BASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", DRIVER],
        input=json.dumps(questions),
        capture_output=True,
        text=True,
        cwd=tree,
        env=env,
        check=True,
        timeout=1800,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def score(items: list[dict], run: dict, units: dict[str, tuple[str, str]]) -> dict:
    hit1 = hit3 = on = off = declined_off = declined_on = 0
    advice_q = advice_lines = advice_total = without = 0
    recalls: list[float] = []
    for item, answer in zip(items, run["answers"], strict=True):
        if item.get("expect") == "none":
            off += 1
            declined_off += not answer["answered"]
            continue
        on += 1
        cats = answer["ranked_categories"]
        rank = next((i for i, c in enumerate(cats) if c in item["cats"]), None)
        hit1 += rank == 0
        hit3 += rank is not None and rank < 3
        if not answer["answered"]:
            declined_on += 1
            continue
        lines = lines_of(answer, units)
        if ASKS_FOR_ADVICE.search(item["q"]):
            advice_q += 1
            advice = sum(section == "What to do" for _, section in lines)
            advice_lines += advice
            advice_total += len(lines)
            without += advice == 0
        if item.get("ideal"):
            shown = {line_id for line_id, _ in lines}
            recalls.append(len(shown & set(item["ideal"])) / len(item["ideal"]))
    answer_ms = [a["ms"] for a in run["answers"]]

    def share(count: int, total: int) -> float | None:  # None: the file has no such question
        return count / total if total else None

    return {
        "hit@1": share(hit1, on),
        "hit@3": share(hit3, on),
        "off-topic declined": share(declined_off, off),
        "on-topic wrongly declined": share(declined_on, on),
        "advice share": share(advice_lines, advice_total),
        "answers without advice": f"{without} of {advice_q}",
        "ideal recall": statistics.fmean(recalls) if recalls else None,
        "warm answer p95 ms": percentile(answer_ms, 95),
        "bare embedding p95 ms": percentile(run["embed_ms"], 95),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="a40bf5d", help="commit to compare against")
    parser.add_argument(
        "--sets", nargs="+", default=["bench/devset.yaml", "bench/devset2.yaml", "bench/heldout.yaml"]
    )
    args = parser.parse_args()
    units = unit_ids()
    work = Path(tempfile.mkdtemp(prefix="mlready-useful-"))
    base_tree = work / "baseline"
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(base_tree), args.baseline],
        check=True,
        capture_output=True,
    )
    try:
        rows: dict[str, dict[str, dict]] = {}
        for name in args.sets:
            items = yaml.safe_load((ROOT / name).read_text(encoding="utf-8"))["questions"]
            questions = [q["q"] for q in items]
            rows[name] = {
                f"before ({args.baseline})": score(
                    items, run_tree(base_tree, work / "index-before", questions), units
                ),
                "after": score(items, run_tree(ROOT, work / "index-after", questions), units),
            }
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base_tree)], check=False)
        shutil.rmtree(work, ignore_errors=True)
    for name, runs in rows.items():
        print(f"\n### {name}\n")
        labels = list(runs)
        print("| figure | " + " | ".join(labels) + " |")
        print("|---|" + "---|" * len(labels))
        for key in next(iter(runs.values())):
            cells = [runs[label][key] for label in labels]
            print(
                f"| {key} | "
                + " | ".join(
                    f"{c:.3f}" if isinstance(c, float) else "n/a" if c is None else str(c) for c in cells
                )
                + " |"
            )


if __name__ == "__main__":
    main()
