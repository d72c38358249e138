"""The entry point the Slack CLI's `slack run` starts (slack-cli-hooks runs ./app.py; the CLI sets
SLACK_BOT_TOKEN and SLACK_APP_TOKEN of its development app): mlready in Socket Mode."""

import sys

from bot.cli import main

if __name__ == "__main__":
    sys.argv = ["mlready", "serve", *sys.argv[1:]]
    main()
