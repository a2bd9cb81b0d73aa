"""What the Alembic migrations (the sandbox's and the flows ledger's) build their tables from.

A migration is history: it must go on emitting the very DDL it emitted when it was released.
These helpers spell columns and constraints as Alembic's autogenerate wrote them out one by
one (NOT NULL unless said otherwise; foreign keys and unnamed unique constraints in the order
of their columns' names; an index on one column named ``ix_<table>_<column>``), so that a
migration reads as the list of its tables and still makes the same schema.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

# Leeloo's ids, 24-hex strings (the sandbox schema's ``Oid``).
OID_LENGTH = 24
# Where a column made by ``ref`` keeps the column it references, for ``create_table``.
_REFERENCES = "migration_references"


def column(name: str, type_: sa.types.TypeEngine[Any], *, nullable: bool = False, **kw: Any) -> sa.Column[Any]:
    return sa.Column(name, type_, nullable=nullable, **kw)


def string(name: str, length: int, *, nullable: bool = False) -> sa.Column[Any]:
    return column(name, sa.String(length=length), nullable=nullable)


def oid(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    return string(name, OID_LENGTH, nullable=nullable)


def text(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    return column(name, sa.Text(), nullable=nullable)


def integer(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    return column(name, sa.Integer(), nullable=nullable)


def boolean(name: str) -> sa.Column[Any]:
    return column(name, sa.Boolean())


def number(name: str) -> sa.Column[Any]:
    return column(name, sa.Float())


def json(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    return column(name, sa.JSON(), nullable=nullable)


def timestamp(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    return column(name, sa.DateTime(), nullable=nullable)


def timestamps() -> tuple[sa.Column[Any], sa.Column[Any]]:
    """``created_at`` and ``updated_at``, both required."""
    return timestamp("created_at"), timestamp("updated_at")


def big_id() -> sa.types.TypeEngine[int]:
    """A 64-bit id; on SQLite plain INTEGER, so that a primary key is the rowid."""
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def key(type_: sa.types.TypeEngine[Any], name: str = "id", **kw: Any) -> sa.Column[Any]:
    """A primary-key column (one of several, for a composite key)."""
    return column(name, type_, primary_key=True, **kw)


def oid_key() -> sa.Column[Any]:
    return key(sa.String(length=OID_LENGTH))


def ref(name: str, target: str, type_: sa.types.TypeEngine[Any] | None = None, *, nullable: bool = False,
        **kw: Any) -> sa.Column[Any]:
    """A column referencing ``target`` ("table.column"), a Leeloo id unless ``type_`` says otherwise."""
    return column(name, type_ if type_ is not None else sa.String(length=OID_LENGTH), nullable=nullable,
                  info={_REFERENCES: target}, **kw)


def tenant() -> sa.Column[Any]:
    """``company_id``: the tenant every sandbox row belongs to."""
    return ref("company_id", "company.id")


def create_table(table: str, *columns: sa.Column[Any], unique: Iterable[str] = (), indexed: Iterable[str] = (),
                 named_unique: Mapping[str, Sequence[str]] | None = None) -> None:
    """Create ``table`` with its columns' foreign keys, a unique constraint on each column of
    ``unique`` and those of ``named_unique`` (name: columns), and an index on each column of
    ``indexed``."""
    references = sorted((c.name, c.info[_REFERENCES]) for c in columns if _REFERENCES in c.info)
    constraints: list[sa.Constraint] = [sa.ForeignKeyConstraint([name], [target]) for name, target in references]
    constraints += [sa.UniqueConstraint(name) for name in sorted(unique)]
    constraints += [sa.UniqueConstraint(*names, name=name) for name, names in (named_unique or {}).items()]
    op.create_table(table, *columns, *constraints)
    for name in indexed:
        op.create_index(f"ix_{table}_{name}", table, [name], unique=False)
