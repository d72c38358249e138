"""mlready benchmark: retrieval quality, latency, build times, memory and Slack ack latency.

Run from the repository root:  .venv/bin/python bench/run.py [--skip-large] [--skip-slack] [--only-startup]
Writes bench/out/results.json and prints a Markdown summary for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from bot.evaluation import evaluate, load_questions, percentile  # noqa: E402
from bot.settings import Settings  # noqa: E402
from indexer.retriever import Retriever  # noqa: E402

OUT = ROOT / "bench" / "out"
PY = sys.executable


def timed_subprocess(args: list[str], env: dict | None = None, runs: int = 3) -> float:
    """Median wall time in seconds of a fresh process."""
    walls = []
    for _ in range(runs):
        started = time.perf_counter()
        proc = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
        walls.append(time.perf_counter() - started)
        if proc.returncode != 0:
            raise RuntimeError(f"{args} failed: {proc.stderr[-2000:]}")
    return round(statistics.median(walls), 3)


# Started from a small process: a child forked from this (large) one would count this
# process's pages in its peak RSS.
_RSS_PROBE = (
    "import json, os, subprocess, sys; p = subprocess.Popen(json.loads(sys.argv[1]), "
    "stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); _, status, usage = os.wait4(p.pid, 0); "
    "print(status, usage.ru_maxrss)"
)


def peak_rss_of(args: list[str], env: dict) -> float:
    """Peak RSS in MB of one child process (wait4's ru_maxrss, as /usr/bin/time reports)."""
    out = subprocess.run(
        [PY, "-c", _RSS_PROBE, json.dumps(args)], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    if out[0] != "0":
        raise RuntimeError(f"{args} exited with {out[0]}")
    return round(int(out[1]) / 1024, 1)


def machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import faiss
    import sentence_transformers
    import torch

    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(mem_gb, 1),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "sentence_transformers": sentence_transformers.__version__,
        "faiss": faiss.__version__,
        "platform": platform.platform(),
    }


def bench_floor(engine, questions: list[str]) -> dict:
    embedder, searcher = engine.embedder, engine.searcher
    for q in questions[:5]:
        embedder.encode_query(q)
    embed_ms, faiss_ms, answer_ms = [], [], []
    for _ in range(3):
        for q in questions:
            t = time.perf_counter()
            vec = embedder.encode_query(q)
            embed_ms.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            searcher.dense_ranking(vec, 50)
            faiss_ms.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            engine.ask(q)
            answer_ms.append((time.perf_counter() - t) * 1000)

    def stats(xs: list[float]) -> dict:
        return {"p50": round(percentile(xs, 50), 2), "p95": round(percentile(xs, 95), 2)}

    return {
        "embed_query_ms": stats(embed_ms),
        "faiss_search_ms": stats(faiss_ms),
        "answer_hybrid_ms": stats(answer_ms),
        "n": len(embed_ms),
    }


def bench_builds(embedder, settings: Settings) -> dict:
    from bot.knowledge_base import load_knowledge
    from indexer.store import build_index

    tmp = Path(tempfile.mkdtemp(prefix="mlready-bench-"))
    try:
        kb = load_knowledge(settings)
        embedder.encode(["warm up"])
        t = time.perf_counter()
        report = build_index(
            kb.docs, tmp / "index", embedder, full=True, progress=False, out_of_scope=kb.out_of_scope
        )
        full_s = time.perf_counter() - t
        # Change one document (a copy of the shipped folder) and rebuild incrementally.
        copy = tmp / "kb"
        shutil.copytree(kb.docs[0].path.parents[2], copy)
        from indexer.knowledge import load_documents

        target = sorted(copy.rglob("*.md"))[0]
        target.write_text(target.read_text() + "\nOne more sentence for the benchmark.\n")
        docs = load_documents([copy])
        t = time.perf_counter()
        build_index(docs, tmp / "index", embedder, progress=False, out_of_scope=kb.out_of_scope)
        incremental_s = time.perf_counter() - t
        return {
            "docs": len(kb.docs),
            "chunks": report.manifest.chunk_count,
            "units": report.manifest.unit_count,
            "full_build_s": round(full_s, 2),
            "incremental_one_doc_s": round(incremental_s, 2),
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def bench_large(embedder, target_chunks: int = 5000) -> dict:
    """A generated corpus of about 5,000 chunks, made of the shipped sentences reshuffled."""
    from indexer.chunking import chunk_document
    from indexer.knowledge import load_documents, shipped_categories, shipped_knowledge_dir
    from indexer.store import build_index

    rng = random.Random(7)
    categories = list(shipped_categories())
    real = load_documents([shipped_knowledge_dir()])
    sentences = [u.text for d in real for u in chunk_document(d)[0] if len(u.text.split()) > 6]
    tmp = Path(tempfile.mkdtemp(prefix="mlready-large-"))
    try:
        per_doc, docs_needed = 20, target_chunks // 20
        for n in range(docs_needed):
            body = ["Generated playbook for the benchmark."]
            for s in range(per_doc - 1):
                body.append(f"\n## Section {s}\n" + " ".join(rng.sample(sentences, 5)))
            (tmp / f"gen-{n:04d}.md").write_text(
                f"---\nid: gen-{n:04d}\ntitle: Generated playbook {n}\n"
                f"category: {categories[n % len(categories)]}\n"
                f"tags: [bench]\nchecklist_items: []\nsources:\n  - generated\n---\n" + "\n".join(body) + "\n"
            )
        docs = load_documents([tmp])
        chunks = sum(len(chunk_document(d)[1]) for d in docs)
        t = time.perf_counter()
        report = build_index(docs, tmp / "index", embedder, full=True, progress=False)
        return {
            "docs": len(docs),
            "chunks": chunks,
            "units": report.manifest.unit_count,
            "full_build_s": round(time.perf_counter() - t, 1),
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def bench_startup(mlready: list[str], env: dict, work: Path) -> dict:
    """Commands that need no embeddings, against a database holding one project (median of 7)."""
    from bot.checklist import load_shipped_checklist
    from bot.db.migrate import open_database
    from bot.projects import create_project
    from bot.readiness import record_response

    db = open_database(env["MLREADY_DATABASE_URL"])
    checklist = load_shipped_checklist()
    with db.session() as session:
        project = create_project(session, "T1", "C1", "U1", "Bench project")
        for item in checklist.items():
            if item.kind == "yesno":
                record_response(session, project, checklist, item.id, "partial", "U1")
    db.dispose()
    return {
        "help_s": timed_subprocess([*mlready, "--help"], env, runs=7),
        "db_upgrade_s": timed_subprocess([*mlready, "db", "upgrade"], env, runs=7),
        "feedback_report_s": timed_subprocess([*mlready, "feedback", "report"], env, runs=7),
        "report_s": timed_subprocess([*mlready, "report", "--project", "Bench project"], env, runs=7),
        "loadavg_1min": os.getloadavg()[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-large", action="store_true")
    parser.add_argument("--skip-slack", action="store_true")
    parser.add_argument("--only-startup", action="store_true", help="Only time commands without embeddings.")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    results: dict = {"machine": machine(), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    work = Path(tempfile.mkdtemp(prefix="mlready-bench-run-"))
    env = dict(
        os.environ,
        MLREADY_INDEX_DIR=str(work / "index"),
        MLREADY_DATABASE_URL=f"sqlite:///{work / 'bench.db'}",
    )
    mlready = [PY, "-m", "bot.cli"]

    print("start-up costs ...", flush=True)
    results["startup"] = bench_startup(mlready, env, work)
    if args.only_startup:
        print(json.dumps(results, indent=2))
        return
    results["import_sentence_transformers_s"] = timed_subprocess(
        [PY, "-c", "import sentence_transformers"], env
    )
    subprocess.run([*mlready, "index"], env=env, check=True, capture_output=True)
    results["cold_ask_s"] = timed_subprocess([*mlready, "ask", "how do we pick a KPI for churn?"], env)
    results["ask_process_peak_rss_mb"] = peak_rss_of(
        [*mlready, "ask", "how do we pick a KPI for churn?"], env
    )

    print("quality and warm latency ...", flush=True)
    from bot.knowledge_base import open_engine

    settings = Settings(index_dir=work / "index")
    engine = open_engine(settings)
    questions = load_questions(ROOT / "bench" / "devset.yaml")
    results["eval"] = {}
    for retriever in Retriever:
        result = evaluate(engine, questions, retriever)
        results["eval"][retriever.value] = result.model_dump()
        (OUT / f"misses-{retriever.value}.json").write_text(json.dumps(result.misses, indent=1))
    results["floor"] = bench_floor(engine, [q.q for q in questions])

    print("index builds ...", flush=True)
    from indexer.embedding import Embedder

    indexing = Embedder(settings.model_path)  # building embeds with sentence-transformers
    results["builds"] = bench_builds(indexing, settings)
    if not args.skip_large:
        results["large"] = bench_large(indexing)
    if not args.skip_slack:
        print("slack ack latency ...", flush=True)
        from bench.slack_load import run_slack_load

        results["slack"] = run_slack_load(env, work)
    shutil.rmtree(work, ignore_errors=True)
    (OUT / "results.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
