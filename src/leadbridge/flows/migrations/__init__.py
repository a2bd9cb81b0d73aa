"""Schema migrations (Alembic) of the flows' ledger.

The ledger's tables carry their own version table (``lb_alembic_version``), so a ledger
may share a database with other applications, the sandbox included. A ledger created
before the ledger was versioned (tables, no version table) holds exactly the schema of
revision 0001, and is stamped so before upgrading. An in-memory ledger lives for one
process and is created straight from the metadata.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, MetaData, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

HERE = Path(__file__).parent
VERSION_TABLE = "lb_alembic_version"
# The newest revision; opening a ledger already there skips loading Alembic at all.
HEAD = "0005"
FIRST = "0001"


def alembic_config(connection: Connection, target_metadata: MetaData | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.attributes["connection"] = connection
    config.attributes["target_metadata"] = target_metadata
    return config


def current_revision(connection: Connection) -> str | None:
    """The ledger's revision; ``FIRST`` for an unversioned ledger, None for an empty database."""
    tables = set(inspect(connection).get_table_names())
    if VERSION_TABLE in tables:
        return connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
    return FIRST if "lb_unit" in tables else None


def upgrade(connection: Connection, revision: str = "head") -> None:
    """Bring the ledger on ``connection`` to ``revision`` (inside the caller's transaction)."""
    from alembic import command

    config = alembic_config(connection)
    tables = set(inspect(connection).get_table_names())
    if "lb_unit" in tables and VERSION_TABLE not in tables:
        command.stamp(config, FIRST)
    command.upgrade(config, revision)
