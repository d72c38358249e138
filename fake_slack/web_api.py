"""A local stand-in for the Slack Web API: records every call and answers like Slack.

Used by `mlready chat` (no Slack needed) and by the tests, which can also make it
answer 429 with Retry-After, or 500, on demand. Listens on loopback only.

`python -m fake_slack.web_api --port N` runs it as its own process (bench/scale.py does), with
a control API next to the Web API: `GET /_control/calls[?method=M]` lists the recorded calls and
`POST /_control/fail {"seconds": 30, "status": 500}` fails every call for that long.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

BOT_USER_ID = "UMLREADY"
BOT_ID = "BMLREADY"


@dataclass
class Call:
    method: str  # Web API method, or "response_url" for posts to a response URL
    params: dict[str, Any]
    at: float = field(default_factory=time.time)
    token: str = ""  # the bearer token the call was made with


@dataclass
class _Fault:
    method: str
    status: int
    retry_after: int | None
    remaining: int
    error: str | None = None  # Slack's own refusal: HTTP 200 with ok=false and this error


class LocalSlackAPI:
    def __init__(self, team_id: str = "TLOCAL", host: str = "127.0.0.1", port: int = 0) -> None:
        self.team_id = team_id
        self.calls: list[Call] = []
        self.users: dict[str, dict] = {}
        self.socket_url = ""  # a LocalSocketMode's url, handed out by apps.connections.open
        self._faults: list[_Fault] = []
        self._fail_until = 0.0  # time.monotonic() until which every call fails (fail_for)
        self._fail_status = 500
        self._lock = threading.Condition()
        self._ts = 1_700_000_000
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def send_json(self, status: int, payload: Any) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                if self.path.startswith("/_control/"):
                    self.send_json(*api._control("GET", self.path, ""))
                else:
                    self.send_json(404, {"ok": False, "error": "unknown_path"})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8") if length else ""
                if self.path.startswith("/_control/"):
                    self.send_json(*api._control("POST", self.path, raw))
                    return
                if self.path.startswith("/upload/"):
                    api._record(
                        Call("file_upload", {"file_id": self.path.rsplit("/", 1)[-1], "content": raw})
                    )
                    body = f"OK - {length}".encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                ctype = self.headers.get("Content-Type", "")
                params: dict[str, Any]
                if "json" in ctype:
                    params = json.loads(raw) if raw else {}
                else:
                    params = {k: v[0] for k, v in parse_qs(raw).items()}
                    for key in ("blocks", "attachments", "view"):
                        if isinstance(params.get(key), str):
                            with contextlib.suppress(ValueError):
                                params[key] = json.loads(params[key])
                path = self.path.split("?")[0]
                if path.startswith("/response/"):
                    method = "response_url"
                    params["_response_id"] = path.rsplit("/", 1)[-1]
                else:
                    method = path.removeprefix("/api/").strip("/")
                auth = self.headers.get("Authorization", "")
                status, headers, payload = api._respond(method, params, auth.removeprefix("Bearer "))
                body = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header(
                    "Content-Type",
                    "text/plain" if isinstance(payload, str) else "application/json; charset=utf-8",
                )
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, daemon=True, name="local-slack-api"
        )

    # lifecycle
    def start(self) -> LocalSlackAPI:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/api/"

    def response_url(self, name: str = "1") -> str:
        return self.url.replace("/api/", f"/response/{name}")

    # fault injection
    def fail_next(
        self,
        method: str,
        status: int = 429,
        times: int = 1,
        retry_after: int | None = 1,
        error: str | None = None,
    ) -> None:
        """The next `times` calls of `method` fail: with HTTP `status`, or with `error` (such as
        "not_in_channel") in an HTTP 200 body, as Slack refuses a call it understood."""
        with self._lock:
            self._faults.append(_Fault(method, status, retry_after if status == 429 else None, times, error))

    def fail_for(self, seconds: float, status: int = 500) -> None:
        """Answer every call (Web API and response URLs) with `status` for `seconds` from now."""
        with self._lock:
            self._fail_until = time.monotonic() + seconds
            self._fail_status = status

    def _control(self, verb: str, path: str, raw: str) -> tuple[int, Any]:
        """The control API of a separately running stand-in (see the module docstring)."""
        url = urlsplit(path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if verb == "POST" and url.path == "/_control/fail":
            try:
                spec = json.loads(raw or "{}")
                self.fail_for(float(spec["seconds"]), int(spec.get("status", 500)))
            except (ValueError, KeyError, TypeError) as exc:
                return 400, {"ok": False, "error": f"bad request: {exc}"}
            return 200, {"ok": True}
        if verb == "GET" and url.path == "/_control/calls":
            with self._lock:
                calls = [c for c in self.calls if "method" not in query or c.method == query["method"]]
                return 200, {
                    "ok": True,
                    "calls": [{"method": c.method, "params": c.params, "at": c.at} for c in calls],
                }
        return 404, {"ok": False, "error": "unknown_control"}

    # inspection
    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 30.0) -> list[Call]:
        with self._lock:
            self._lock.wait_for(
                lambda: len([c for c in self.calls if c.method == method]) >= count, timeout=timeout
            )
            return [c for c in self.calls if c.method == method]

    def _record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)
            self._lock.notify_all()

    def _next_ts(self) -> str:
        self._ts += 1
        return f"{self._ts}.000100"

    def _respond(self, method: str, params: dict, token: str = "") -> tuple[int, dict[str, str], Any]:
        with self._lock:
            if time.monotonic() < self._fail_until:
                self.calls.append(Call(f"{method}!{self._fail_status}", params))
                self._lock.notify_all()
                return self._fail_status, {}, {"ok": False, "error": "internal_error"}
            for fault in self._faults:
                if fault.method in (method, "*") and fault.remaining > 0:
                    fault.remaining -= 1
                    if fault.error:
                        self.calls.append(Call(f"{method}!{fault.error}", params))
                        self._lock.notify_all()
                        return 200, {}, {"ok": False, "error": fault.error}
                    self.calls.append(Call(f"{method}!{fault.status}", params))
                    self._lock.notify_all()
                    headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after else {}
                    body = {"ok": False, "error": "ratelimited" if fault.status == 429 else "internal_error"}
                    return fault.status, headers, body
            self.calls.append(Call(method, params, token=token))
            self._lock.notify_all()
            return 200, {}, self._result(method, params)

    def _result(self, method: str, params: dict) -> Any:
        channel = params.get("channel", "")
        if method == "response_url":
            return "ok"
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://local.slack/",
                "team": "Local",
                "user": "mlready",
                "team_id": self.team_id,
                "user_id": BOT_USER_ID,
                "bot_id": BOT_ID,
            }
        if method == "chat.postMessage":
            ts = self._next_ts()
            return {
                "ok": True,
                "channel": channel,
                "ts": ts,
                "message": {
                    "text": params.get("text", ""),
                    "ts": ts,
                    "user": BOT_USER_ID,
                    "bot_id": BOT_ID,
                    "thread_ts": params.get("thread_ts"),
                },
            }
        if method == "oauth.v2.access":
            # The code names the workspace being installed, e.g. code=T222.
            team = str(params.get("code", "TNEW"))
            return {
                "ok": True,
                "app_id": "AMLREADY",
                "access_token": f"xoxb-installed-{team}",
                "token_type": "bot",
                "scope": "chat:write,commands",
                "bot_user_id": BOT_USER_ID,
                "team": {"id": team, "name": f"Workspace {team}"},
                "authed_user": {"id": "UINSTALLER"},
                "is_enterprise_install": False,
            }
        if method == "users.getPresence":  # a user's "presence" field, else active
            user = self.users.get(params.get("user", ""), {})
            return {"ok": True, "presence": user.get("presence", "active")}
        if method == "dnd.info":  # a user's "dnd" field, e.g. {"snooze_enabled": True}
            user = self.users.get(params.get("user", ""), {})
            return {"ok": True, "dnd_enabled": False, "snooze_enabled": False, **user.get("dnd", {})}
        if method == "apps.connections.open":
            if not self.socket_url:
                return {"ok": False, "error": "socket_mode_not_enabled"}
            return {"ok": True, "url": self.socket_url}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._next_ts()}
        if method == "chat.update":
            return {"ok": True, "channel": channel, "ts": params.get("ts"), "text": params.get("text", "")}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(params.get("users", "U"))[1:]}}
        if method == "users.info":
            user = params.get("user", "")
            info = self.users.get(user, {"id": user, "name": user.lower(), "tz": "UTC", "is_bot": False})
            return {"ok": True, "user": info}
        if method == "files.getUploadURLExternal":
            file_id = "F" + self._next_ts().replace(".", "")
            return {
                "ok": True,
                "file_id": file_id,
                "upload_url": self.url.replace("/api/", f"/upload/{file_id}"),
            }
        if method == "files.completeUploadExternal":
            files = params.get("files", "[]")
            files = json.loads(files) if isinstance(files, str) else files
            return {"ok": True, "files": [{"id": f["id"], "title": f.get("title", "")} for f in files]}
        if method in ("views.open", "views.update", "views.push", "views.publish"):
            return {"ok": True, "view": {"id": "V" + self._next_ts().replace(".", "")}}
        return {"ok": True}


def main(argv: list[str] | None = None) -> None:
    """`python -m fake_slack.web_api --port N`: serve until SIGTERM or Ctrl-C."""
    parser = argparse.ArgumentParser(description="A local stand-in for the Slack Web API.")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--team", default="TLOCAL", help="the team_id that auth.test reports")
    args = parser.parse_args(argv)
    api = LocalSlackAPI(team_id=args.team, host=args.host, port=args.port).start()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda _signum, _frame: stop.set())
    print(f"local Slack Web API on {api.url}", flush=True)
    stop.wait()
    api.stop()


if __name__ == "__main__":
    main()
