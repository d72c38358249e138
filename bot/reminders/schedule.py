"""When a project's reminders are due: cadence, time of day and timezone, snooze.

A period is one scheduled occurrence, named by its local date. Only the latest occurrence
that has passed is ever due, so a bot that was down for weeks sends one catch-up reminder,
not one per missed period.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from bot.db.models import Project, ReminderSchedule, utcnow
from bot.db.session import dialect_insert

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
DEFAULT_CADENCE, DEFAULT_WEEKDAY, DEFAULT_TIME = "weekly", 0, "09:30"
MAX_SNOOZE = timedelta(days=90)
EVERY_DAY = "everyday"  # `daily` skips Saturday and Sunday; this one does not
EXAMPLES = (
    "`/mlready remind weekly mon 09:30`, `/mlready remind daily 10:00` (weekdays), "
    "`/mlready remind daily 10:00 every-day`, `/mlready remind off`, "
    "`/mlready remind now`, `/mlready remind snooze 3d`, `/mlready remind timezone Europe/Berlin`"
)


class ScheduleError(ValueError):
    """Input a user can fix; the message says how."""


@dataclass(frozen=True)
class RemindRequest:
    """A parsed `/mlready remind ...`: show, set, off, now, snooze or timezone."""

    action: str
    cadence: str = ""
    weekday: int = 0
    at_time: str = ""
    snooze: timedelta | None = None
    timezone: str = ""  # "" = back to the owner's timezone


def parse_time(text: str) -> str:
    """'9:30', '09:30', '9:30am', '5pm' -> 'HH:MM'."""
    m = re.fullmatch(r"(\d{1,2})(?::(\d{2}))?\s*(am|pm)?", text.strip().lower())
    if not m or (m.group(2) is None and m.group(3) is None):
        raise ScheduleError(f"'{text[:20]}' is not a time of day; write it like 09:30 or 5pm.")
    hour, minute = int(m.group(1)), int(m.group(2) or 0)
    if m.group(3):
        if not 1 <= hour <= 12:
            raise ScheduleError(f"'{text[:20]}' is not a time of day; write it like 09:30 or 5pm.")
        hour = hour % 12 + (12 if m.group(3) == "pm" else 0)
    if hour > 23 or minute > 59:
        raise ScheduleError(f"'{text[:20]}' is not a time of day; write it like 09:30 or 5pm.")
    return f"{hour:02d}:{minute:02d}"


def parse_weekday(text: str) -> int:
    word = text.strip().lower()
    matches = [i for i, day in enumerate(WEEKDAYS) if len(word) >= 2 and day.startswith(word)]
    if len(matches) != 1:
        raise ScheduleError(f"'{text[:20]}' is not a day of the week; use mon, tue, ... sun.")
    return matches[0]


def parse_duration(text: str) -> timedelta:
    m = re.fullmatch(r"(\d{1,3})\s*([hdw])", text.strip().lower())
    if not m:
        raise ScheduleError(f"'{text[:20]}' is not a duration; use e.g. 3d, 12h or 1w.")
    amount, unit = int(m.group(1)), m.group(2)
    span = {"h": timedelta(hours=amount), "d": timedelta(days=amount), "w": timedelta(weeks=amount)}[unit]
    if not timedelta(hours=1) <= span <= MAX_SNOOZE:
        raise ScheduleError("A snooze lasts between 1 hour and 90 days, e.g. `/mlready remind snooze 3d`.")
    return span


def check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a tzdata folder, a name too long
        raise ScheduleError(
            f"'{name[:40]}' is not a timezone I know; use a name like Europe/Berlin or America/New_York."
        ) from None
    return name


def parse_remind(args: str) -> RemindRequest:
    words = args.split()
    if not words:
        return RemindRequest("show")
    head, rest = words[0].lower(), words[1:]
    try:
        if head == "weekly" and len(rest) == 2:
            return RemindRequest("set", "weekly", parse_weekday(rest[0]), parse_time(rest[1]))
        if head == "daily" and len(rest) == 1:  # Monday to Friday
            return RemindRequest("set", "daily", 0, parse_time(rest[0]))
        if head == "daily" and len(rest) == 2 and rest[1].lower() in ("every-day", "everyday", "weekends"):
            return RemindRequest("set", EVERY_DAY, 0, parse_time(rest[0]))
        if head in ("off", "now") and not rest:
            return RemindRequest(head)
        if head == "snooze" and len(rest) <= 1:
            return RemindRequest("snooze", snooze=parse_duration(rest[0] if rest else "3d"))
        if head in ("timezone", "tz") and len(rest) == 1:
            name = rest[0]
            return RemindRequest("timezone", timezone="" if name.lower() == "owner" else check_timezone(name))
    except ScheduleError as exc:
        raise ScheduleError(f"{exc} Examples: {EXAMPLES}") from None
    raise ScheduleError(f"I did not understand `/mlready remind {args.strip()[:80]}`. Examples: {EXAMPLES}")


@dataclass(frozen=True)
class Schedule:
    """A project's effective settings (stored row or defaults)."""

    cadence: str
    weekday: int
    at_time: str
    timezone: str  # the name in effect; "UTC" when nothing better is known
    timezone_source: str  # set, owner or default
    snoozed_until: datetime | None
    changed_at: datetime | None
    changed_by: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def describe(self) -> str:
        if self.cadence == "off":
            return "off"
        when = {"weekly": f"{WEEKDAYS[self.weekday].title()}s", "daily": "Monday to Friday"}.get(
            self.cadence, "every day"
        )
        cadence = "daily" if self.cadence == EVERY_DAY else self.cadence
        return f"{cadence}: {when} at {self.at_time} ({self.timezone})"

    def runs_on(self, day: date) -> bool:
        if self.cadence == "weekly":
            return day.weekday() == self.weekday
        if self.cadence == "daily":
            return day.weekday() < 5
        return self.cadence == EVERY_DAY


def schedule_of(session: Session, project: Project) -> Schedule:
    row = session.get(ReminderSchedule, project.id)
    if row is None:
        return Schedule(DEFAULT_CADENCE, DEFAULT_WEEKDAY, DEFAULT_TIME, "UTC", "default", None, None, "")
    if row.timezone:
        tz, source = row.timezone, "set"
    elif row.owner_timezone:
        tz, source = row.owner_timezone, "owner"
    else:
        tz, source = "UTC", "default"
    snoozed = as_utc(row.snoozed_until) if row.snoozed_until else None
    return Schedule(
        row.cadence, row.weekday, row.at_time, tz, source, snoozed, as_utc(row.changed_at), row.changed_by
    )


def schedule_row(session: Session, project: Project) -> ReminderSchedule:
    """The project's stored settings, created with the defaults if missing (race-safe)."""
    row = session.get(ReminderSchedule, project.id)
    if row is not None:
        return row
    stmt = dialect_insert(session, ReminderSchedule).values(
        project_id=project.id,
        cadence=DEFAULT_CADENCE,
        weekday=DEFAULT_WEEKDAY,
        at_time=DEFAULT_TIME,
        timezone="",
        owner_timezone="",
        changed_at=project.created_at,
        changed_by="",
    )
    session.execute(stmt.on_conflict_do_nothing(index_elements=["project_id"]))
    row = session.get(ReminderSchedule, project.id)
    assert row is not None
    return row


def apply_request(
    session: Session, project: Project, request: RemindRequest, user_id: str, now: datetime | None = None
) -> ReminderSchedule:
    """Store a set/off/snooze/timezone change; `show` and `now` change nothing."""
    now = now or utcnow()
    row = schedule_row(session, project)
    if request.action == "set":
        row.cadence, row.weekday, row.at_time = request.cadence, request.weekday, request.at_time
        row.snoozed_until = None
    elif request.action == "off":
        row.cadence = "off"
    elif request.action == "snooze":
        assert request.snooze is not None
        row.snoozed_until = now + request.snooze
    elif request.action == "timezone":
        row.timezone = request.timezone
        row.owner_timezone = ""  # looked up again, in case the owner moved
    else:
        return row
    row.changed_at, row.changed_by = now, user_id
    session.flush()
    return row


def _at(day: date, at_time: str, zone: ZoneInfo) -> datetime:
    hour, minute = (int(x) for x in at_time.split(":"))
    return datetime.combine(day, time(hour, minute), tzinfo=zone)


def latest_occurrence(schedule: Schedule, now: datetime) -> datetime | None:
    """The last scheduled moment at or before `now`, as an aware datetime in the project's zone."""
    if schedule.cadence == "off":
        return None
    zone = schedule.zone
    day = now.astimezone(zone).date()
    # Wall-clock arithmetic on dates, then localize: a DST change moves the UTC instant, not 09:30.
    while not schedule.runs_on(day) or _at(day, schedule.at_time, zone) > now:
        day -= timedelta(days=1)
    return _at(day, schedule.at_time, zone)


def next_occurrence(schedule: Schedule, now: datetime) -> datetime | None:
    latest = latest_occurrence(schedule, now)
    if latest is None:
        return None
    day = latest.date()
    after = max(now, schedule.snoozed_until or now)
    while not schedule.runs_on(day) or (moment := _at(day, schedule.at_time, schedule.zone)) <= after:
        day += timedelta(days=1)
    return moment


def due_period(schedule: Schedule, project: Project, now: datetime) -> str | None:
    """The period to remind about now, or None. A period that began before the project
    existed, before the settings last changed, or inside a snooze is not reminded."""
    occurrence = latest_occurrence(schedule, now)
    if occurrence is None:
        return None
    anchors = [project.created_at, schedule.changed_at, schedule.snoozed_until]
    if any(a is not None and occurrence <= as_utc(a) for a in anchors):
        return None
    return occurrence.date().isoformat()


def as_utc(moment: datetime) -> datetime:
    """Aware UTC. SQLite hands back naive datetimes; everything stored is UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
