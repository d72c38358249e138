"""HTTP mode: an ASGI app (Starlette under uvicorn) in front of the Bolt app.

Bolt's dispatch is synchronous, so it runs in a worker thread and never blocks the event
loop. Signatures are checked before the body is parsed, so unsigned junk gets 401 and
signed junk gets 400; neither reaches a listener.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from urllib.parse import parse_qs

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from slack_bolt import App, BoltContext, BoltRequest, BoltResponse
from slack_bolt.request.internals import build_context
from slack_sdk.signature import SignatureVerifier
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot import metrics
from bot.jobs import RetryLater
from bot.slack.jobs.delivery import send_to_response_url

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1 << 20  # Slack payloads are far smaller
READY_TIMEOUT = 2.0  # seconds /readyz waits for the database check
BODY_TIMEOUT = 10.0  # seconds a client may take to send its body (Slack sends it at once)


# Keys Bolt reads as objects; a signed body with another type there would crash Bolt.
OBJECT_KEYS = ("team", "user", "channel", "view", "event", "container", "message")


def shape_problem(body: dict) -> str | None:
    """Why a parsed Slack body has a shape Bolt cannot handle, or None."""
    for key in OBJECT_KEYS:
        if key in body and not isinstance(body[key], dict):
            return f"'{key}' must be an object"
    if body.get("enterprise") is not None and not isinstance(body["enterprise"], dict):
        return "'enterprise' must be an object"
    view = body.get("view") or {}
    state = view.get("state", {})
    if not isinstance(state, dict) or not isinstance(state.get("values", {}), dict):
        return "'view.state.values' must be an object"
    actions = body.get("actions", [])
    if not isinstance(actions, list) or not all(
        isinstance(a, dict) and isinstance(a.get("action_id"), str) for a in actions
    ):
        return "'actions' must be a list of actions with an action_id"
    authorizations = body.get("authorizations", [])
    if not isinstance(authorizations, list) or not all(isinstance(a, dict) for a in authorizations):
        return "'authorizations' must be a list of objects"
    return None


def inspect_body(body: str, content_type: str) -> tuple[str, str | None, dict]:
    """Parse a (signed) body once, by its content type and the `payload` key: its kind for
    metrics (command, block_actions, event_callback, ...), why it cannot be a Slack request
    (or None), and the parsed body. Bolt's own parser looks for the substring "payload"
    anywhere in a form body, so `/mlready ask what payload size...` would not be a command."""
    try:
        if content_type.startswith("application/json"):
            parsed = json.loads(body)
            if not isinstance(parsed, dict):
                return "other", "JSON body must be an object", {}
            return str(parsed.get("type", "other"))[:32], shape_problem(parsed), parsed
        if not content_type.startswith("application/x-www-form-urlencoded"):
            return "other", "a Slack request is form-encoded or JSON", {}
        form = parse_qs(body, keep_blank_values=True, strict_parsing=bool(body))
        if any(len(values) > 1 for values in form.values()):
            return "other", "a form body repeats a key", {}
        if "payload" in form:
            parsed = json.loads(form["payload"][0])
            if not isinstance(parsed, dict):
                return "other", "payload must be a JSON object", {}
            return str(parsed.get("type", "other"))[:32], shape_problem(parsed), parsed
        fields = {key: values[0] for key, values in form.items()}
        if "command" not in fields and "ssl_check" not in fields:
            return "other", "a form body must be a slash command", {}
        if any(key in fields for key in (*OBJECT_KEYS, "authorizations", "actions", "enterprise")):
            return "command", "a slash command carries no objects", {}
        return ("command" if "command" in fields else "other"), None, fields
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        return "other", f"malformed body ({exc.__class__.__name__})", {}


COMMAND_FAILED = (
    "Sorry, that did not work on my side, so it may not have been saved. Please try again in a minute."
)
CLICK_FAILED = "Sorry, I could not save that just now (a problem on my side). Please click again in a minute."
SUBMIT_FAILED = "I could not save this just now (a problem on my side); please submit again in a minute."


def failure_reply(kind: str, parsed: dict) -> Response | None:
    """What the person sees when a listener failed on our side (e.g. the database is away),
    instead of Slack's generic failure: a reply to a command, a private message after a click
    (sent by the caller), an error on a modal's first input."""
    if kind == "command":
        return JSONResponse({"response_type": "ephemeral", "text": COMMAND_FAILED})
    if kind == "view_submission":
        values = ((parsed.get("view") or {}).get("state") or {}).get("values") or {}
        first = next(iter(values), None) if isinstance(values, dict) else None
        if isinstance(first, str):
            return JSONResponse({"response_action": "errors", "errors": {first: SUBMIT_FAILED}})
    return None


def tell_after_click(response_url: str) -> None:
    """A private note after a failed click; best effort, as the click is already lost."""
    message = {"text": CLICK_FAILED, "response_type": "ephemeral", "replace_original": False}
    try:
        send_to_response_url(response_url, message, "telling the user a click failed")
    except RetryLater as exc:
        log.error("%s", exc)


def to_response(bolt_resp: BoltResponse) -> Response:
    return Response(
        content=bolt_resp.body,
        status_code=bolt_resp.status,
        headers={k: v[0] for k, v in bolt_resp.headers.items() if k.lower() != "content-length"},
    )


async def read_limited(request: Request) -> bytes | None:
    """The body, or None once it is larger than MAX_BODY_BYTES: the declared length is checked
    first and the stream is counted as it arrives, so a huge body is never held in memory."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return None
    chunks: list[bytes] = []
    size = 0
    async with asyncio.timeout(BODY_TIMEOUT):  # a body dripped byte by byte is cut off
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                return None
            chunks.append(chunk)
    return b"".join(chunks)


def is_signed(verifier: SignatureVerifier, raw: bytes, headers: dict[str, str]) -> bool:
    """Slack's signature check, with a malformed timestamp or signature (letters, 5,000 digits,
    non-ASCII) counted as unsigned rather than raising."""
    timestamp = headers.get("x-slack-request-timestamp", "")
    signature = headers.get("x-slack-signature", "")
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12 and signature.isascii()):
        return False
    try:
        return verifier.is_valid_request(raw, headers)
    except (ValueError, TypeError, UnicodeError):
        return False


def create_asgi_app(
    bolt_app: App, signing_secret: str, ready: Callable[[], bool] | None = None, serve_metrics: bool = True
) -> Starlette:
    verifier = SignatureVerifier(signing_secret)

    async def events(request: Request) -> Response:
        started = time.perf_counter()
        try:
            response = await handle(request)
        except Exception:  # a bug of ours: one log entry, a counted 500, no traceback to the sender
            log.exception("handling a request to /slack/events failed")
            response = PlainTextResponse("internal error", status_code=500)
        kind = getattr(request.state, "kind", "rejected")  # set once the request is authentic
        metrics.REQUESTS.labels(kind, str(response.status_code)).inc()
        metrics.ACK_SECONDS.labels(kind).observe(time.perf_counter() - started)
        return response

    async def handle(request: Request) -> Response:
        try:
            raw = await read_limited(request)
        except TimeoutError:
            return PlainTextResponse("the body took too long to arrive", status_code=408)
        if raw is None:
            return PlainTextResponse("payload too large", status_code=413)
        headers = {k.lower(): v for k, v in request.headers.items()}
        if not is_signed(verifier, raw, headers):
            return PlainTextResponse("invalid signature", status_code=401)
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            return PlainTextResponse("body is not UTF-8", status_code=400)
        kind, problem, parsed = inspect_body(body, headers.get("content-type", ""))
        if problem:
            log.warning("rejected a signed request: %s", problem)
            return PlainTextResponse(problem, status_code=400)
        request.state.kind = kind
        try:
            bolt_req = BoltRequest(
                body=body, query=request.url.query, headers={k: [v] for k, v in headers.items()}
            )
            if bolt_req.body != parsed:  # Bolt's substring test misread it (see inspect_body)
                bolt_req.body = parsed
                bolt_req.context = build_context(BoltContext({}), parsed)
            bolt_resp = await run_in_threadpool(bolt_app.dispatch, bolt_req)
        except Exception:
            log.exception("dispatch failed")
            return PlainTextResponse("internal error", status_code=500)
        if bolt_resp.status >= 500:
            # A listener failed (logged by the app's error handler), e.g. the database is away:
            # the person gets a reply saying to try again, not Slack's "dispatch_failed".
            reply = failure_reply(kind, parsed)
            if reply is not None:
                return reply
            response_url = parsed.get("response_url")
            if kind == "block_actions" and isinstance(response_url, str):
                asyncio.get_running_loop().run_in_executor(None, tell_after_click, response_url)
                return Response(status_code=200)
        return to_response(bolt_resp)

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

    return Starlette(
        routes=[
            Route("/slack/events", events, methods=["POST"]),
            Route("/slack/install", oauth, methods=["GET"]),
            Route("/slack/oauth_redirect", oauth, methods=["GET"]),
            *health_routes(ready, serve_metrics),
        ]
    )


def health_routes(ready: Callable[[], bool] | None, serve_metrics: bool = True) -> list[Route]:
    """/healthz (the process answers), /readyz (model loaded, database reachable), /metrics."""

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> Response:
        # Off the event loop and bounded: a hanging database must not stall acks or /healthz.
        try:
            ok = await asyncio.wait_for(run_in_threadpool(ready), READY_TIMEOUT) if ready else True
        except TimeoutError:
            ok = False
        return JSONResponse({"ready": ok}, status_code=200 if ok else 503)

    async def metrics_endpoint(_: Request) -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        *([Route("/metrics", metrics_endpoint, methods=["GET"])] if serve_metrics else []),
    ]


def create_health_app(ready: Callable[[], bool]) -> Starlette:
    """The side port of Socket Mode, which has no HTTP endpoint of its own."""
    return Starlette(routes=health_routes(ready))
