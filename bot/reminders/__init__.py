"""Reminders about missing KPIs, missing sign-off and stale blocking gaps (no Slack imports)."""
