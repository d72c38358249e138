"""A local Socket Mode endpoint: what `apps.connections.open` hands out, so `mlready serve` in
Socket Mode connects, receives envelopes as Slack sends them, and acks them, all on this machine.
Tests only (needs the `websockets` package from the dev extra)."""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any


class LocalSocketMode:
    def __init__(self, host: str = "127.0.0.1") -> None:
        from websockets.sync.server import serve

        self.acks: dict[str, dict] = {}  # envelope id -> what the app sent back
        self._clients: list[Any] = []
        self._changed = threading.Condition()
        self._server = serve(self._handle, host, 0)
        self.url = f"ws://{host}:{self._server.socket.getsockname()[1]}/link"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def _handle(self, connection: Any) -> None:
        connection.send(json.dumps({"type": "hello", "num_connections": 1, "debug_info": {"host": "local"}}))
        with self._changed:
            self._clients.append(connection)
            self._changed.notify_all()
        try:
            for raw in connection:
                message = json.loads(raw)
                with self._changed:
                    self.acks[message.get("envelope_id", "")] = message
                    self._changed.notify_all()
        except Exception:  # a client that drops the connection
            pass
        finally:
            with self._changed:
                self._clients.remove(connection)

    def wait_connected(self, timeout: float = 60) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: bool(self._clients), timeout)

    def send(self, kind: str, payload: dict, timeout: float = 30) -> dict:
        """Send one envelope (`slash_commands`, `interactive` or `events_api`) and return the ack."""
        envelope_id = str(uuid.uuid4())
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": True,
        }
        assert self.wait_connected(timeout), "no Socket Mode client connected"
        with self._changed:
            client = self._clients[-1]
        client.send(json.dumps(envelope))
        with self._changed:
            assert self._changed.wait_for(lambda: envelope_id in self.acks, timeout), "no ack"
            return self.acks[envelope_id]

    def stop(self) -> None:
        self._server.shutdown()
