"""Real servers on 127.0.0.1 standing in for what only the vendors' networks do.

``SlowProxy`` forwards TCP to the sandbox and holds its answers back: the sandbox has
committed the call, the client has not heard so. ``StubServer`` answers with scripted
responses, for what only the real services send (a plain-text 429, an error envelope on a
200, an OAuth2 form login).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class SlowProxy:
    """A TCP proxy to ``127.0.0.1:upstream_port`` that delays every chunk of the answer by
    ``delay`` seconds on its first ``slow_connections`` connections (later ones pass at once)."""

    def __init__(self, upstream_port: int, delay: float, slow_connections: int = 1) -> None:
        self.upstream_port = upstream_port
        self.delay = delay
        self.slow_connections = slow_connections
        self.connections = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            with self._lock:
                self.connections += 1
                slow = self.connections <= self.slow_connections
                self._sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, 0.0), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, self.delay if slow else 0.0),
                             daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket, delay: float) -> None:
        try:
            while chunk := source.recv(65536):
                if delay:
                    time.sleep(delay)
                target.sendall(chunk)
        except OSError:
            pass  # the client gave up (timed out) or the test ended: drop the connection
        for sock in (source, target):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._listener.close()
        with self._lock:
            for sock in self._sockets:
                sock.close()


@dataclass
class Reply:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Seen:
    """A request the stub received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


class StubServer:
    """A threaded HTTP server answering each request with ``answer(seen)``; ``seen`` lists them all."""

    def __init__(self, answer: Callable[[Seen], Reply]) -> None:
        self.answer = answer
        self.seen: list[Seen] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                               self.rfile.read(length), time.monotonic())
                stub.seen.append(request)
                reply = stub.answer(request)
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(reply.body)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(reply.body)

            do_GET = do_POST = do_PUT = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
