"""Whether the test PostgreSQL answers (the export tests use their own dataset, not a search_path)."""

from __future__ import annotations


def pg_available(url: str) -> bool:
    import sqlalchemy

    try:
        engine = sqlalchemy.create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False
