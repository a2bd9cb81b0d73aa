"""A duplicate unit names the unit it duplicates: lb_unit.duplicate_of."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'

# Before this revision a duplicate was told only by its error, "same phone <phone> as <key>".
RECORDED_AS = "same phone "


def upgrade() -> None:
    with op.batch_alter_table('lb_unit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('duplicate_of', sa.String(length=200), nullable=True))
    unit = sa.table('lb_unit', sa.column('id', sa.Integer()), sa.column('state', sa.String(20)),
                    sa.column('error', sa.Text()), sa.column('duplicate_of', sa.String(200)))
    connection = op.get_bind()
    rows = connection.execute(sa.select(unit.c.id, unit.c.error).where(
        unit.c.state == 'skipped', unit.c.error.like(RECORDED_AS + '% as %'))).all()
    for unit_id, error in rows:
        connection.execute(sa.update(unit).where(unit.c.id == unit_id)
                           .values(duplicate_of=error.rsplit(' as ', 1)[1][:200]))


def downgrade() -> None:
    with op.batch_alter_table('lb_unit', schema=None) as batch_op:
        batch_op.drop_column('duplicate_of')
