"""Slack wiring: thin listeners that call the domain and render Block Kit."""
