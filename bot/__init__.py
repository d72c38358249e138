"""mlready: find out early, in Slack, whether an ML project is set up to fail."""
