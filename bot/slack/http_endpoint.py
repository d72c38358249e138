"""HTTP mode: an ASGI app (Starlette under uvicorn) in front of the Bolt app.

Bolt's dispatch is synchronous, so it runs in a worker thread and never blocks the event
loop. Signatures are checked before the body is parsed, so unsigned junk gets 401 and
signed junk gets 400; neither reaches a listener.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from urllib.parse import parse_qs

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from slack_bolt import App, BoltRequest, BoltResponse
from slack_sdk.signature import SignatureVerifier
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot import metrics

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1 << 20  # Slack payloads are far smaller


# Keys Bolt reads as objects; a signed body with another type there would crash Bolt.
OBJECT_KEYS = ("team", "user", "channel", "view", "event", "container", "message")


def shape_problem(body: dict) -> str | None:
    """Why a parsed Slack body has a shape Bolt cannot handle, or None."""
    for key in OBJECT_KEYS:
        if key in body and not isinstance(body[key], dict):
            return f"'{key}' must be an object"
    if body.get("enterprise") is not None and not isinstance(body["enterprise"], dict):
        return "'enterprise' must be an object"
    actions = body.get("actions", [])
    if not isinstance(actions, list) or not all(
        isinstance(a, dict) and isinstance(a.get("action_id"), str) for a in actions
    ):
        return "'actions' must be a list of actions with an action_id"
    authorizations = body.get("authorizations", [])
    if not isinstance(authorizations, list) or not all(isinstance(a, dict) for a in authorizations):
        return "'authorizations' must be a list of objects"
    return None


def inspect_body(body: str, content_type: str) -> tuple[str, str | None]:
    """Parse a (signed) body once: its kind for metrics (command, block_actions,
    event_callback, ...) and why it cannot be a Slack request, or None when it can."""
    try:
        if content_type.startswith("application/json"):
            parsed = json.loads(body)
            if not isinstance(parsed, dict):
                return "other", "JSON body must be an object"
            return str(parsed.get("type", "other"))[:32], shape_problem(parsed)
        form = parse_qs(body, keep_blank_values=True)
        if "payload" in form:
            parsed = json.loads(form["payload"][0])
            if not isinstance(parsed, dict):
                return "other", "payload must be a JSON object"
            return str(parsed.get("type", "other"))[:32], shape_problem(parsed)
        if "command" not in form and "ssl_check" not in form:
            return "other", "a form body must be a slash command"
        if any(key in form for key in (*OBJECT_KEYS, "authorizations", "actions", "enterprise")):
            return "command", "a slash command carries no objects"
        return ("command" if "command" in form else "other"), None
    except (ValueError, UnicodeDecodeError) as exc:
        return "other", f"malformed body ({exc.__class__.__name__})"


COMMAND_FAILED = (
    "Sorry, that did not work on my side, so it may not have been saved. Please try again in a minute."
)


def to_response(bolt_resp: BoltResponse) -> Response:
    return Response(
        content=bolt_resp.body,
        status_code=bolt_resp.status,
        headers={k: v[0] for k, v in bolt_resp.headers.items() if k.lower() != "content-length"},
    )


def create_asgi_app(bolt_app: App, signing_secret: str, ready: Callable[[], bool] | None = None) -> Starlette:
    verifier = SignatureVerifier(signing_secret)

    async def events(request: Request) -> Response:
        started = time.perf_counter()
        response = await handle(request)
        kind = getattr(request.state, "kind", "rejected")  # set once the request is authentic
        metrics.REQUESTS.labels(kind, str(response.status_code)).inc()
        metrics.ACK_SECONDS.labels(kind).observe(time.perf_counter() - started)
        return response

    async def handle(request: Request) -> Response:
        raw = await request.body()
        if len(raw) > MAX_BODY_BYTES:
            return PlainTextResponse("payload too large", status_code=413)
        headers = {k.lower(): v for k, v in request.headers.items()}
        if not verifier.is_valid_request(raw, headers):
            return PlainTextResponse("invalid signature", status_code=401)
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            return PlainTextResponse("body is not UTF-8", status_code=400)
        kind, problem = inspect_body(body, headers.get("content-type", ""))
        if problem:
            log.warning("rejected a signed request: %s", problem)
            return PlainTextResponse(problem, status_code=400)
        request.state.kind = kind
        try:
            bolt_req = BoltRequest(
                body=body, query=request.url.query, headers={k: [v] for k, v in headers.items()}
            )
            bolt_resp = await run_in_threadpool(bolt_app.dispatch, bolt_req)
        except Exception:
            log.exception("dispatch failed")
            return PlainTextResponse("internal error", status_code=500)
        if bolt_resp.status >= 500 and request.state.kind == "command":
            # A listener failed (logged by the app's error handler), e.g. the database is away:
            # the person who typed the command gets a reply instead of Slack's "dispatch_failed".
            return JSONResponse({"response_type": "ephemeral", "text": COMMAND_FAILED})
        return to_response(bolt_resp)

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> Response:
        ok = ready() if ready else True
        return JSONResponse({"ready": ok}, status_code=200 if ok else 503)

    async def oauth(request: Request) -> Response:
        """/slack/install and /slack/oauth_redirect, handled by Bolt's OAuth flow."""
        flow = bolt_app.oauth_flow
        if flow is None:
            return PlainTextResponse("multi-workspace install is not enabled", status_code=404)
        bolt_req = BoltRequest(
            body="",
            query=request.url.query,
            headers={k.lower(): [v] for k, v in request.headers.items()},
        )
        handler = flow.handle_installation if request.url.path == flow.install_path else flow.handle_callback
        return to_response(await run_in_threadpool(handler, bolt_req))

    async def metrics_endpoint(_: Request) -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return Starlette(
        routes=[
            Route("/slack/events", events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", metrics_endpoint, methods=["GET"]),
            Route("/slack/install", oauth, methods=["GET"]),
            Route("/slack/oauth_redirect", oauth, methods=["GET"]),
        ]
    )
