"""Schema migrations (Alembic) for on-disk databases.

An in-memory database is created straight from the metadata: it lives for one process,
so there is nothing to migrate, and skipping Alembic keeps a test sandbox's start fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from leadbridge.sandbox import search
from leadbridge.sandbox.schema import Base

if TYPE_CHECKING:
    from alembic.config import Config

HERE = Path(__file__).parent


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, *, memory: bool) -> None:
    if memory:
        Base.metadata.create_all(engine)
        if engine.dialect.name == "sqlite":
            with engine.begin() as connection:
                search.create_sqlite_index(connection)
        return
    from alembic import command

    command.upgrade(alembic_config(engine), "head")
