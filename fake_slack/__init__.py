"""Local stand-ins for Slack: a Web API that records calls, signed request payloads as Slack
sends them, and the terminal console behind `mlready chat`. Used by tests, benches and local
trials; the production app in `bot/` never imports them."""
