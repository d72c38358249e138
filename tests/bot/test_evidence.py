"""Evidence (note and link) and assignments per checklist item, without Slack."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot import projects
from bot.checklist import load_shipped_checklist
from bot.db.migrate import open_database
from bot.evidence import (
    EvidenceInput,
    assign,
    changes_of,
    overdue_assignments,
    parse_assignment,
    parse_evidence,
    set_evidence,
)
from bot.readiness import ResponseError, project_state, record_response

CHECKLIST = load_shipped_checklist()
TODAY = date(2026, 12, 3)


@pytest.mark.parametrize(
    ("raw", "field", "message"),
    [
        ({"note": "x" * 1001}, "note", "1,000 characters"),
        ({"url": "https://example.com/" + "a" * 1990}, "url", "2,000 characters"),
        ({"url": "javascript:alert(1)"}, "url", "https://"),
        ({"url": "ftp://files.example.com/x"}, "url", "https://"),
        ({"url": "https://"}, "url", "https://"),
        ({"url": "https://a.example/x|<!channel>"}, "url", "< > |"),
        ({"url": "https://a.example/a b"}, "url", "spaces"),
        ({"note": "ok\u202eevil"}, "note", "text-direction"),
    ],
)
def test_bad_evidence_is_refused_next_to_its_field(raw: dict, field: str, message: str) -> None:
    evidence, errors = parse_evidence(raw)
    assert evidence is None and message in errors[field], errors


def test_good_evidence() -> None:
    evidence, errors = parse_evidence(
        {"note": "  Agreed in the kick-off.\nSee doc. ", "url": "HTTPS://wiki.example/p?a=1&b=2"}
    )
    assert errors == {} and evidence == EvidenceInput(
        note="Agreed in the kick-off.\nSee doc.", url="HTTPS://wiki.example/p?a=1&b=2"
    )
    assert parse_evidence({"note": "x" * 1000, "url": "https://e.example/" + "a" * 1982})[0] is not None


def test_assignment_input() -> None:
    assert parse_assignment({"assignee": "U2", "due": "2026-12-10"}, TODAY)[0] is not None
    assert parse_assignment({"assignee": "", "due": None}, TODAY)[0] is not None  # unassign
    assert "past" in parse_assignment({"assignee": "U2", "due": "2026-12-01"}, TODAY)[1]["due"]
    assert parse_assignment({"assignee": "dana", "due": None}, TODAY)[1] == {
        "assignee": "Pick a person from the list"
    }
    assert "assignee" in parse_assignment({"assignee": "", "due": "2026-12-10"}, TODAY)[1]


def test_evidence_and_assignments_are_kept_with_their_history(database_url: str) -> None:
    db = open_database(database_url)
    with db.session() as s:
        project = projects.create_project(s, "T1", "C1", "U1", "churn")
        item = "objectives.problem-statement"
        set_evidence(
            s, project, CHECKLIST, item, EvidenceInput(note="one-pager", url="https://w.example/1"), "U1"
        )
        set_evidence(s, project, CHECKLIST, item, EvidenceInput(note="v2"), "U2")
        first, new = assign(
            s, project, CHECKLIST, item, parse_assignment({"assignee": "U3", "due": None}, TODAY)[0], "U1"
        )
        assert new and first is not None
        first.dm_ts = "1.1"
        same, new = assign(
            s,
            project,
            CHECKLIST,
            item,
            parse_assignment({"assignee": "U3", "due": "2026-12-20"}, TODAY)[0],
            "U1",
        )
        assert not new and same.dm_ts == "1.1"  # same person, new date: not told again
        other, new = assign(
            s, project, CHECKLIST, item, parse_assignment({"assignee": "U4", "due": None}, TODAY)[0], "U1"
        )
        assert new and other.dm_ts == ""
        with pytest.raises(ResponseError, match="not part of this project's checklist"):
            set_evidence(s, project, CHECKLIST, "objectives.nope", EvidenceInput(note="x"), "U1")
        pid = project.id
    with db.session() as s:
        project = projects.get_project(s, "T1", pid)
        state = project_state(s, project, CHECKLIST)
        assert (state.evidence[item].note, state.evidence[item].url, state.evidence[item].changed_by) == (
            "v2",
            "",
            "U2",
        )
        assert state.assignments[item].assignee_id == "U4"
        changes = changes_of(s, project, item)
        assert [(c.kind, c.changed_by) for c in changes] == [
            ("evidence", "U1"),
            ("evidence", "U2"),
            ("assignment", "U1"),
            ("assignment", "U1"),
            ("assignment", "U1"),
        ]
        assert changes[0].detail == {"note": "one-pager", "url": "https://w.example/1"}
        set_evidence(s, project, CHECKLIST, item, EvidenceInput(), "U1")  # both empty: removed
        assign(s, project, CHECKLIST, item, parse_assignment({"assignee": "", "due": None}, TODAY)[0], "U1")
        state = project_state(s, project, CHECKLIST)
        assert item not in state.evidence and item not in state.assignments
        project.archived_at = project.created_at
        with pytest.raises(ResponseError, match="archived"):
            set_evidence(s, project, CHECKLIST, item, EvidenceInput(note="late"), "U1")
    db.dispose()


def test_overdue_only_counts_open_items(database_url: str) -> None:
    db = open_database(database_url)
    with db.session() as s:
        project = projects.create_project(s, "T1", "C1", "U1", "churn")
        for item_id, due in (
            ("objectives.scope", TODAY + timedelta(days=1)),
            ("objectives.ml-justified", TODAY + timedelta(days=1)),
        ):
            assign(
                s,
                project,
                CHECKLIST,
                item_id,
                parse_assignment({"assignee": "U3", "due": due.isoformat()}, TODAY)[0],
                "U1",
            )
        record_response(s, project, CHECKLIST, "objectives.ml-justified", "yes", "U3")
        state = project_state(s, project, CHECKLIST)
        assert overdue_assignments(state, TODAY + timedelta(days=1)) == []  # due today is not late
        late = overdue_assignments(state, TODAY + timedelta(days=2))
        assert [item.id for _, item in late] == ["objectives.scope"]
        assert [i.id for i in state.open_by_person()["U3"]] == ["objectives.scope"]
    db.dispose()
