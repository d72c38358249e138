"""HTTP mode: an ASGI app (Starlette under uvicorn) in front of the Bolt app.

Bolt's dispatch is synchronous, so it runs in a worker thread and never blocks the event
loop. Signatures are checked before the body is parsed, so unsigned junk gets 401 and
signed junk gets 400; neither reaches a listener.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from urllib.parse import parse_qs

from slack_bolt import App, BoltRequest
from slack_sdk.signature import SignatureVerifier
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1 << 20  # Slack payloads are far smaller


def body_problem(body: str, content_type: str) -> str | None:
    """Why a (signed) body cannot be a Slack request, or None when it can."""
    try:
        if content_type.startswith("application/json"):
            parsed = json.loads(body)
            return None if isinstance(parsed, dict) else "JSON body must be an object"
        form = parse_qs(body, keep_blank_values=True)
        if "payload" in form:
            parsed = json.loads(form["payload"][0])
            return None if isinstance(parsed, dict) else "payload must be a JSON object"
        if not form:
            return "empty body"
        return None
    except (ValueError, UnicodeDecodeError) as exc:
        return f"malformed body ({exc.__class__.__name__})"


def create_asgi_app(bolt_app: App, signing_secret: str, ready: Callable[[], bool] | None = None) -> Starlette:
    verifier = SignatureVerifier(signing_secret)

    async def events(request: Request) -> Response:
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
        problem = body_problem(body, headers.get("content-type", ""))
        if problem:
            log.warning("rejected a signed request: %s", problem)
            return PlainTextResponse(problem, status_code=400)
        bolt_req = BoltRequest(
            body=body, query=request.url.query, headers={k: [v] for k, v in headers.items()}
        )
        try:
            bolt_resp = await run_in_threadpool(bolt_app.dispatch, bolt_req)
        except Exception:
            log.exception("dispatch failed")
            return PlainTextResponse("internal error", status_code=500)
        return Response(
            content=bolt_resp.body,
            status_code=bolt_resp.status,
            headers={k: v[0] for k, v in bolt_resp.headers.items() if k.lower() != "content-length"},
        )

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> Response:
        ok = ready() if ready else True
        return JSONResponse({"ready": ok}, status_code=200 if ok else 503)

    return Starlette(
        routes=[
            Route("/slack/events", events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
        ]
    )
