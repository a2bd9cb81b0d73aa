"""Several processes serving one sandbox database: ``leadbridge sandbox --workers N``.

The parent prepares the database (migrates and seeds it once), binds the listening socket
and hands both to uvicorn's process supervisor, which starts ``N`` worker processes
sharing that socket (the kernel spreads the connections among them) and restarts one
that dies. Each worker builds its own :class:`~leadbridge.sandbox.state.Sandbox` with
``shared=True`` on the same database: see that module for what is shared and what stays
per process.
"""

from __future__ import annotations

import json
import os
import socket
from typing import Any

from fastapi import FastAPI

from leadbridge.sandbox.app import create_app
from leadbridge.sandbox.state import Sandbox

# The worker processes are started by ``spawn`` (a fresh interpreter), so their settings
# travel in the environment they inherit.
SETTINGS_VARIABLE = "LEADBRIDGE_SANDBOX_WORKER"
WORKER_START_SECONDS = 120


def worker_app() -> FastAPI:
    """The application of one worker (uvicorn's factory, called in the worker process)."""
    settings: dict[str, Any] = json.loads(os.environ[SETTINGS_VARIABLE])
    sandbox = Sandbox(settings["db"], seed=settings["seed"], people=settings["people"], shared=True)
    sandbox.start()  # the parent migrated and seeded the database: nothing is left to do but read the clock
    sandbox.control_token = settings["control_token"]
    return create_app(sandbox, start=False)


def serve_workers(listener: socket.socket, *, workers: int, db: str, seed: int, people: int,
                  control_token: str | None) -> None:
    """Serve on ``listener`` with ``workers`` processes until SIGINT or SIGTERM stops them all."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    os.environ[SETTINGS_VARIABLE] = json.dumps(
        {"db": db, "seed": seed, "people": people, "control_token": control_token})
    # A worker imports the whole application before it answers the supervisor's first
    # health check: on a busy machine that takes well over uvicorn's default 5 s, and a
    # worker missing it would be killed and started again, forever.
    config = uvicorn.Config(f"{__name__}:worker_app", factory=True, workers=workers, log_level="warning",
                            access_log=False, timeout_worker_healthcheck=WORKER_START_SECONDS)
    Multiprocess(config, sockets=[listener]).run()
