"""Projects, answers, KPIs, sign-offs and reports without Slack, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import multiprocessing
from datetime import date

import pytest
from sqlalchemy import func, select

from bot import project_report, projects, signoffs
from bot.checklist import ResponseValue, load_shipped_checklist
from bot.db.migrate import open_database
from bot.db.models import ChecklistResponse, ResponseHistory
from bot.readiness import (
    ResponseError,
    add_kpi,
    band,
    parse_kpi,
    project_state,
    record_response,
)

CHECKLIST = load_shipped_checklist()


def test_names_and_channels(database_url: str) -> None:
    db = open_database(database_url)
    with db.session() as s:
        p = projects.create_project(s, "T1", "C1", "U1", "  Churn   model ")
        assert p.name == "Churn model"
    for bad, words in [
        ("", "Give the project a name"),
        ("x" * 81, "1-80"),
        ("bad\x07name", "control or text-direction characters"),
    ]:
        with pytest.raises(projects.ProjectError, match=words), db.session() as s:
            projects.create_project(s, "T1", "C2", "U1", bad)
    with pytest.raises(projects.ProjectError, match="already has the project"), db.session() as s:
        projects.create_project(s, "T1", "C1", "U2", "Second")
    with pytest.raises(projects.ProjectError, match="not in a direct message"), db.session() as s:
        projects.create_project(s, "T1", "D1", "U2", "In a DM")
    with db.session() as s:  # the same channel id in another workspace is another channel
        assert projects.create_project(s, "T2", "C1", "U9", "Other team").team_id == "T2"
    with db.session() as s:
        p = projects.channel_project(s, "T1", "C1")
        assert p is not None
        with pytest.raises(projects.ProjectError, match="Only the project owner"):
            projects.archive_project(s, p, "U2")
        projects.archive_project(s, p, "U1")
    with db.session() as s:
        assert projects.channel_project(s, "T1", "C1") is None
        projects.create_project(s, "T1", "C1", "U2", "Churn v2")  # allowed after archiving
    db.dispose()


def test_answers_history_and_workspace_scope(database_url: str) -> None:
    db = open_database(database_url)
    with db.session() as s:
        p = projects.create_project(s, "T1", "C1", "U1", "Fraud")
        record_response(s, p, CHECKLIST, "objectives.problem-statement", "yes", "U1")
        record_response(s, p, CHECKLIST, "objectives.problem-statement", "partial", "U2")
        with pytest.raises(ResponseError, match="no longer exists"):
            record_response(s, p, CHECKLIST, "objectives.nope", "yes", "U1")
        with pytest.raises(ResponseError, match="KPI or a sign-off"):
            record_response(s, p, CHECKLIST, "kpis.defined", "yes", "U1")
        with pytest.raises(ResponseError, match="not a response"):
            record_response(s, p, CHECKLIST, "objectives.scope", "maybe", "U1")
        pid = p.id
    with db.session() as s:
        assert projects.get_project(s, "T2", pid) is None  # another workspace cannot see it
        p = projects.get_project(s, "T1", pid)
        assert p is not None
        state = project_state(s, p, CHECKLIST)
        assert state.values["objectives.problem-statement"] == ResponseValue.partial
        assert state.responses["objectives.problem-statement"].responded_by == "U2"
        assert s.scalar(select(func.count()).select_from(ResponseHistory)) == 2
    db.dispose()


def test_kpi_validation() -> None:
    today = date(2026, 11, 28)
    kpi, errors = parse_kpi(
        {
            "metric": "churn rate",
            "baseline": "4.2%",
            "target": "3,5",
            "unit": "%",
            "deadline": "2027-03-31",
            "owner_id": "U1",
        },
        today,
    )
    assert errors == {} and kpi is not None
    assert (kpi.baseline, kpi.target) == (4.2, 3.5)  # a decimal comma
    assert parse_kpi({"metric": "margin", "baseline": "1,200.5", "target": "9"}, today)[0].baseline == 1200.5  # type: ignore[union-attr]
    kpi, errors = parse_kpi(
        {"metric": "", "baseline": "lots", "target": "3", "deadline": "2020-01-01"}, today
    )
    assert kpi is None
    assert set(errors) == {"metric", "baseline", "deadline"}
    kpi, errors = parse_kpi({"metric": "churn", "baseline": "3", "target": "3"}, today)
    assert kpi is None and "differ" in errors["target"]


def test_kpi_signoff_and_staleness(database_url: str) -> None:
    db = open_database(database_url)
    today = date(2026, 11, 28)
    with db.session() as s:
        p = projects.create_project(s, "T1", "C1", "U1", "Churn")
        state = project_state(s, p, CHECKLIST)
        assert {g.item.id for g in state.readiness.gaps} >= {"kpis.defined", "stakeholders.signoff"}
        kpi, _ = parse_kpi({"metric": "churn", "baseline": "4", "target": "3"}, today)
        add_kpi(s, p, kpi, "U1")  # type: ignore[arg-type]
        so, _ = signoffs.request_signoff(s, p, "U5", "U1", "Q1 KPIs")
        with pytest.raises(signoffs.SignoffError, match="Only <@U5>"):
            signoffs.decide(s, so, p, "U6", approve=True)
        with pytest.raises(signoffs.SignoffError, match="what should change"):
            signoffs.decide(s, so, p, "U5", approve=False, comment=" ")
        signoffs.decide(s, so, p, "U5", approve=True)
        with pytest.raises(signoffs.SignoffError, match="already answered"):
            signoffs.decide(s, so, p, "U5", approve=False, comment="late")
        state = project_state(s, p, CHECKLIST)
        assert state.signoff == "approved"
        assert state.values["kpis.defined"] == ResponseValue.yes
        assert state.values["stakeholders.signoff"] == ResponseValue.yes
        add_kpi(s, p, parse_kpi({"metric": "revenue", "baseline": "1", "target": "2"}, today)[0], "U1")  # type: ignore[arg-type]
        state = project_state(s, p, CHECKLIST)
        assert state.signoff == "stale"
        assert "stakeholders.signoff" not in {g.item.id for g in state.readiness.gaps}
        assert state.values["stakeholders.signoff"] == ResponseValue.partial
    with pytest.raises(signoffs.SignoffError, match="@-mention"):
        signoffs.parse_request("dana please")
    assert signoffs.parse_request("<@U77|dana> Q3 goals") == ("U77", "Q3 goals")
    db.dispose()


def test_report_formats(database_url: str) -> None:
    db = open_database(database_url)
    with db.session() as s:
        p = projects.create_project(s, "T1", "C1", "U1", "Demand forecast")
        record_response(s, p, CHECKLIST, "data-quality.audit", "no", "U2")
        data = json.loads(project_report.render(s, p, CHECKLIST, "json"))
        md = project_report.render(s, p, CHECKLIST, "md")
        csv_text = project_report.render(s, p, CHECKLIST, "csv")
    assert data["project"]["name"] == "Demand forecast"
    assert "data-quality.audit" in data["gaps"] and data["history"][0]["by"] == "U2"
    assert "# Readiness report: Demand forecast" in md and "| data-quality.audit | No | U2 |" in md
    assert csv_text.splitlines()[0] == "record,item_or_metric,value,by,at,detail"
    db.dispose()


def test_bands() -> None:
    assert band(0.0).startswith("research project")
    assert band(0.2).startswith("serious holes")
    assert band(0.45).startswith("first pass")
    assert band(0.6).startswith("reasonably ready")
    assert band(0.9).startswith("strong")
    assert band(1.0).startswith("exceptional")


def _clicker(args: tuple[str, int, int]) -> int:
    url, project_id, worker = args
    db = open_database(url)
    with db.session() as s:
        p = projects.get_project(s, "T1", project_id)
        assert p is not None
    for n in range(10):
        value = ["yes", "partial", "no", "n-a"][(worker + n) % 4]
        with db.session() as s:
            p = projects.get_project(s, "T1", project_id)
            record_response(s, p, CHECKLIST, "objectives.scope", value, f"U{worker}")  # type: ignore[arg-type]
    db.dispose()
    return 10


def test_concurrent_answers_lose_nothing(database_url: str) -> None:
    """Many threads (and on PostgreSQL several processes) answer the same item at once."""
    db = open_database(database_url)
    with db.session() as s:
        pid = projects.create_project(s, "T1", "C1", "U1", "Busy").id
    jobs = [(database_url, pid, w) for w in range(6)]
    if database_url.startswith("postgresql"):
        with multiprocessing.get_context("spawn").Pool(3) as pool:
            total = sum(pool.map(_clicker, jobs))
    else:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(6) as pool:
            total = sum(pool.map(_clicker, jobs))
    with db.session() as s:
        history = list(
            s.scalars(
                select(ResponseHistory)
                .where(ResponseHistory.project_id == pid)
                .order_by(ResponseHistory.responded_at, ResponseHistory.id)
            )
        )
        current = s.get(ChecklistResponse, (pid, "objectives.scope"))
    assert len(history) == total == 60
    assert current is not None
    latest = max(history, key=lambda h: h.responded_at)
    assert (current.value, current.responded_by) == (latest.value, latest.responded_by)
    db.dispose()


def test_cli_report(database_url: str) -> None:
    from tests.conftest import run_cli

    db = open_database(database_url)
    with db.session() as s:
        p = projects.create_project(s, "T1", "C1", "U1", "Ranking")
        record_response(s, p, CHECKLIST, "objectives.scope", "yes", "U1")
        projects.create_project(s, "T2", "C1", "U2", "Twin")
        projects.create_project(s, "T3", "C1", "U3", "Twin")
    db.dispose()

    def run(*args: str):
        return run_cli("report", *args, env={"MLREADY_DATABASE_URL": database_url})

    out = run("--project", "Ranking", "--format", "json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["history"][0]["item"] == "objectives.scope"
    assert run("--project", "Ranking").stdout.startswith("# Readiness report: Ranking")
    assert run("--project", "Ranking", "--format", "csv").stdout.startswith("record,")
    missing = run("--project", "Nope")
    assert missing.returncode == 1 and "no project named 'Nope'" in missing.stderr
    twins = run("--project", "Twin")
    assert twins.returncode == 1 and "--workspace" in twins.stderr
    assert run("--project", "Twin", "--workspace", "T3").returncode == 0
