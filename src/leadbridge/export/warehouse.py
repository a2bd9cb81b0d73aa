"""The warehouse's side of an export: a DuckDB destination whose loads take bounded memory.

``leadbridge export`` loads into it, and so can a pipeline of your own::

    import dlt
    from leadbridge.export import duckdb_destination, leeloo_source

    pipeline = dlt.pipeline("crm", destination=duckdb_destination("crm.duckdb"), dataset_name="leadbridge")
    pipeline.run(leeloo_source(token="…"))
"""

from __future__ import annotations

from typing import Any

import dlt
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials

# DuckDB's settings for the warehouse's connections: one thread, and a memory limit past which
# its joins, windows and sorts spill to a temporary folder beside the file. A merge of 100k
# people with their channels runs in 64 MB, so 128 MB leaves it room.
DUCKDB_SETTINGS = {"threads": 1, "memory_limit": "128MB"}


def duckdb_destination(path: str) -> Any:
    """A DuckDB warehouse whose loads take bounded memory (``DUCKDB_SETTINGS``), one job at a time.

    A merge load copies each file into a staging table, then deletes the rows it replaces
    and inserts the staged ones deduplicated by key (``ROW_NUMBER() OVER (PARTITION BY id)``).
    dlt runs up to 20 such jobs at once and DuckDB gives each query a thread per core and up
    to 80% of the machine's memory, so the load's peak grew with the rows loaded (468 MB for
    100k people with their channels and orders, nearly half of it the load). One job at a
    time on one thread, with DuckDB spilling to disk past ``memory_limit``, keeps it flat;
    the load is a few seconds of an export whose time is the platform's answers.
    """
    credentials = DuckDbCredentials(path, global_config=dict(DUCKDB_SETTINGS))
    return dlt.destinations.duckdb(credentials=credentials, loader_parallelism_strategy="sequential")
