"""`mlready checklist import|templates` and `mlready report --all`, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from sqlalchemy import func, select

from bot import projects
from bot.checklist import load_shipped_checklist
from bot.db.migrate import open_database
from bot.db.models import ChecklistTemplate
from bot.evidence import AssignmentInput, EvidenceInput, assign, set_evidence
from bot.readiness import KpiInput, add_kpi, record_response
from tests.conftest import CliRun, run_cli

CHECKLIST = load_shipped_checklist()
TEMPLATE = {
    "name": "acme",
    "version": 1,
    "extends": "quick",
    "help": {"kpis.defined": "Use the finance team's KPI sheet."},
}


def mlready(url: str, *args: str) -> CliRun:
    return run_cli(*args, env={"MLREADY_DATABASE_URL": url})


def test_checklist_import_and_templates(database_url: str, tmp_path: Path) -> None:
    path = tmp_path / "acme.yaml"
    path.write_text(yaml.safe_dump(TEMPLATE), encoding="utf-8")
    done = mlready(database_url, "checklist", "import", str(path), "--workspace", "T1")
    assert done.returncode == 0, done.stderr
    assert "Imported template 'acme' version 1 for T1" in done.stdout
    again = mlready(database_url, "checklist", "import", str(path), "--workspace", "T1")
    assert "already imported" in again.stdout

    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({**TEMPLATE, "name": "bad", "help": {"kpis.nope": "x"}}), encoding="utf-8")
    refused = mlready(database_url, "checklist", "import", str(bad), "--workspace", "T1")
    assert refused.returncode == 1 and "bad.yaml" in refused.stderr and "help.kpis.nope" in refused.stderr
    (tmp_path / "broken.yaml").write_text("name: [unclosed", encoding="utf-8")
    broken = mlready(database_url, "checklist", "import", str(tmp_path / "broken.yaml"), "--workspace", "T1")
    assert broken.returncode == 1 and "not valid YAML" in broken.stderr

    listed = mlready(database_url, "checklist", "templates", "--workspace", "T1")
    assert [line.split()[0] for line in listed.stdout.splitlines()] == ["default", "genai", "quick", "acme"]
    assert "acme" not in mlready(database_url, "checklist", "templates", "--workspace", "T2").stdout
    db = open_database(database_url)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(ChecklistTemplate)) == 1
    db.dispose()


def test_report_all_and_evidence_in_the_project_report(database_url: str) -> None:
    db = open_database(database_url)
    with db.session() as s:
        churn = projects.create_project(s, "T1", "C1", "U1", "Churn | model")
        fraud = projects.create_project(s, "T1", "C2", "U2", "Fraud")
        projects.create_project(s, "T2", "C9", "U9", "Elsewhere")
        add_kpi(s, churn, KpiInput(metric="churn", baseline=4.2, target=3.5), "U1")
        record_response(s, churn, CHECKLIST, "objectives.problem-statement", "yes", "U1")
        set_evidence(
            s,
            churn,
            CHECKLIST,
            "objectives.problem-statement",
            EvidenceInput(note="one | pager", url="https://w.example/1"),
            "U1",
        )
        assign(s, fraud, CHECKLIST, "data-quality.audit", AssignmentInput("U7", None), "U2")
    db.dispose()

    table = mlready(database_url, "report", "--all", "--workspace", "T1")
    assert table.returncode == 0, table.stderr
    assert "2 active project(s)" in table.stdout and "Elsewhere" not in table.stdout
    assert "| Churn \\| model | C1 |" in table.stdout and "| 1 recorded | none |" in table.stdout
    assert "open in 2 project(s)" in table.stdout and "Guides to push:" in table.stdout
    data = json.loads(
        mlready(database_url, "report", "--all", "--workspace", "T1", "--format", "json").stdout
    )
    assert [p["name"] for p in data["projects"]] == ["Churn | model", "Fraud"]
    assert "objectives.problem-statement" not in data["projects"][0]["blocking_gaps"]
    assert data["open_causes"][0]["projects"] == 2 and data["open_causes"][0]["guides"]

    one = json.loads(mlready(database_url, "report", "--project", "Churn | model", "--format", "json").stdout)
    answer = next(a for a in one["answers"] if a["item"] == "objectives.problem-statement")
    assert (answer["note"], answer["url"]) == ("one | pager", "https://w.example/1")
    assert one["changes"][0]["kind"] == "evidence" and one["project"]["template"] == "default"
    md = mlready(database_url, "report", "--project", "Fraud").stdout
    assert "| data-quality.audit |" in md and "| U7 |" in md and "assigned to U7" in md

    for args, message in (
        (("report", "--all"), "--all needs --workspace"),
        (("report",), "name one project"),
        (("report", "--all", "--workspace", "T1", "--format", "csv"), "md or json"),
    ):
        refused = mlready(database_url, *args)
        assert refused.returncode == 1 and message in refused.stderr, refused.stderr
