"""Running the sandbox: in the foreground (CLI) or in a background thread (tests, plugin)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from leadbridge.sandbox.app import create_app
from leadbridge.sandbox.seed import TENANTS
from leadbridge.sandbox.state import MEMORY_URL, Sandbox


@dataclass(frozen=True)
class Credentials:
    """The demo tenant's credentials, and the other tenants' for isolation tests."""

    leeloo_token: str
    neiros_email: str
    neiros_password: str
    dialog_login: str
    dialog_password: str

    def __repr__(self) -> str:  # secrets never show in reprs or logs
        return f"Credentials(neiros_email={self.neiros_email!r}, dialog_login={self.dialog_login!r}, …)"


def tenant_credentials(index: int = 0) -> Credentials:
    t = TENANTS[index]
    return Credentials(t.leeloo_token, t.neiros_email, t.neiros_password, t.dialog_login, t.dialog_password)


@dataclass
class RunningSandbox:
    url: str
    sandbox: Sandbox
    credentials: Credentials = field(default_factory=tenant_credentials)
    other_tenant: Credentials = field(default_factory=lambda: tenant_credentials(1))


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serve_in_thread(
    sandbox: Sandbox | None = None, *, host: str = "127.0.0.1", port: int = 0, activity: str | float | None = None,
    webhook_url: str | None = None, **server_options: Any
) -> Iterator[RunningSandbox]:
    """Serve a sandbox with uvicorn on a loopback port in a daemon thread; stop on exit.

    Without ``sandbox``, a new in-memory one, living with ``activity`` and sending the demo
    tenant's webhooks to ``webhook_url`` if given (as ``Sandbox(...)`` takes them)."""
    if sandbox is not None and (activity is not None or webhook_url is not None):
        raise TypeError("give activity and webhook_url to Sandbox(...) when passing a sandbox")
    sandbox = sandbox or Sandbox(MEMORY_URL, activity=activity, webhook_url=webhook_url)
    # The lifespan starts a living sandbox's activity (Sandbox(activity=...)).
    options = {"lifespan": "on", **server_options}
    with serve_app_in_thread(create_app(sandbox), host=host, port=port, **options) as url:
        yield RunningSandbox(url=url, sandbox=sandbox)


@contextmanager
def serve_app_in_thread(app: ASGIApp, *, host: str = "127.0.0.1", port: int = 0,
                        **server_options: Any) -> Iterator[str]:
    """Serve any ASGI app as the sandbox is served (same uvicorn set-up); yields the base URL.

    The socket is bound here and handed to uvicorn, so the port is ours from the start: no
    other process (a parallel test worker) can take it between choosing and listening.
    """
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    port = listener.getsockname()[1]
    options: dict[str, Any] = {"log_level": "warning", "access_log": False, "lifespan": "off", **server_options}
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, **options))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, name=f"sandbox:{port}",
                              daemon=True)
    thread.start()
    # A bound against a server that never starts, generous for a loaded machine (not a pace).
    deadline = time.monotonic() + 120
    try:
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"sandbox did not start on {host}:{port}")
            time.sleep(0.01)
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=60)
        listener.close()
