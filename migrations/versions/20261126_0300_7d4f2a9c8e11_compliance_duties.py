"""compliance: disclosure duties marked done

Revision ID: 7d4f2a9c8e11
Revises: 6c3e8f1a2b45
Create Date: 2026-11-26 03:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7d4f2a9c8e11'
down_revision = '6c3e8f1a2b45'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('compliance_duties_done',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('duty_key', sa.String(length=100), nullable=False),
    sa.Column('done_on', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_compliance_duties_done_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_compliance_duties_done')),
    sa.UniqueConstraint('duty_key', name=op.f('uq_compliance_duties_done_duty_key'))
    )


def downgrade():
    op.drop_table('compliance_duties_done')
