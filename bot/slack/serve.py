"""`mlready serve`: Socket Mode, or HTTP mode under uvicorn."""

from __future__ import annotations

import logging
import signal
import threading

from bot.errors import MlreadyError
from bot.settings import Settings
from bot.slack.app import create_runtime
from bot.slack.reminder_scheduler import ReminderScheduler
from bot.slack.services import Services

log = logging.getLogger(__name__)


def start_scheduler(settings: Settings, services: Services) -> ReminderScheduler | None:
    if settings.reminder_interval_seconds <= 0:
        log.warning("reminders are not sent by this process (MLREADY_REMINDER_INTERVAL_SECONDS=0)")
        return None
    return ReminderScheduler(
        services.reminders, settings.reminder_interval_seconds, settings.retention, services.db
    ).start()


def serve_socket_mode(settings: Settings) -> None:
    if not settings.slack_app_token:
        raise MlreadyError(
            "missing required setting(s): SLACK_APP_TOKEN (an xapp- token, for Socket Mode); "
            "or run `mlready serve --http` to receive events over HTTP"
        )
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    app, services = create_runtime(settings, socket_mode=True)
    health = start_health_server(settings, services)
    _ = services.answers.engine  # load the model and index before taking events
    scheduler = start_scheduler(settings, services)
    handler = SocketModeHandler(app, settings.slack_app_token.get_secret_value())
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        log.warning("signal %d: closing the Socket Mode connection, finishing queued work", signum)
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    try:
        handler.connect()
        log.warning("mlready is connected in Socket Mode")
        stop.wait()
    finally:
        handler.close()
        if scheduler:
            scheduler.stop()
        services.jobs.shutdown()  # the acknowledged work still queued is finished first
        if health:
            health.should_exit = True


def start_health_server(settings: Settings, services: Services):
    """/healthz, /readyz and /metrics on the side port, on a daemon thread (Socket Mode)."""
    if not settings.health_port:
        return None
    import uvicorn

    from bot.slack.http_endpoint import create_health_app

    asgi = create_health_app(ready=lambda: services.answers.loaded and services.db.reachable())
    server = uvicorn.Server(
        uvicorn.Config(
            asgi, host=settings.health_host, port=settings.health_port, log_config=None, lifespan="off"
        )
    )
    threading.Thread(target=server.run, name="health", daemon=True).start()
    log.warning("health and metrics on http://%s:%d/healthz", settings.health_host, settings.health_port)
    return server


def server_limits(settings: Settings) -> dict:
    """uvicorn's limits: a bounded number of connections, short keep-alive, small headers."""
    return {
        "limit_concurrency": settings.http_max_connections,
        "timeout_keep_alive": settings.http_keep_alive_seconds,
        "h11_max_incomplete_event_size": 16 * 1024,  # request line and headers
        "timeout_graceful_shutdown": 30,
    }


def serve_http(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    from bot.slack.http_endpoint import create_asgi_app

    app, services = create_runtime(settings)
    _ = services.answers.engine
    assert settings.slack_signing_secret
    asgi = create_asgi_app(
        app,
        settings.slack_signing_secret.get_secret_value(),
        ready=lambda: services.answers.loaded and services.db.reachable(),
        serve_metrics=settings.metrics_port is None,
    )
    log.warning("mlready listens on http://%s:%d/slack/events", host, port)
    if settings.metrics_port is not None:
        from prometheus_client import start_http_server

        start_http_server(settings.metrics_port, addr=settings.metrics_host)
        log.warning("metrics on http://%s:%d/metrics", settings.metrics_host, settings.metrics_port)
    scheduler = start_scheduler(settings, services)
    # uvicorn stops taking requests on SIGTERM/SIGINT, waits for the ones in flight, and then
    # re-raises the signal; this handler absorbs that so the queued answers can still finish.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, _frame: log.warning("signal %d: finishing queued work", signum))
    try:
        # log_config=None: uvicorn's loggers go through ours (JSON when asked for)
        uvicorn.run(asgi, host=host, port=port, log_config=None, **server_limits(settings))
    finally:
        if scheduler:
            scheduler.stop()
        services.jobs.shutdown()
