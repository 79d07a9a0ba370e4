"""volunteer roles: `volunteer` and `organiser` join the user_roles CHECK; activities report people served;
a partial index on voided receipts (the public corrections page)

Revision ID: a7c3e5f9b214
Revises: 9f6c4d2e8a33
Create Date: 2026-11-26 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7c3e5f9b214'
down_revision = '9f6c4d2e8a33'
branch_labels = None
depends_on = None

OLD_ROLES = ('admin', 'finance', 'board', 'reviewer', 'donor', 'applicant', 'enterprise')
NEW_ROLES = OLD_ROLES + ('volunteer', 'organiser')


def _role_check(roles: tuple[str, ...]) -> None:
    with op.batch_alter_table('user_roles', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_user_roles_valid_role'), type_='check')
        batch_op.create_check_constraint('valid_role', "role IN (%s)" % ", ".join(f"'{r}'" for r in roles))


def upgrade():
    _role_check(NEW_ROLES)
    with op.batch_alter_table('volunteer_activities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('people_served', sa.Integer(), nullable=False, server_default='0'))
        batch_op.create_check_constraint('people_served_not_negative', 'people_served >= 0')
    with op.batch_alter_table('receipts', schema=None) as batch_op:
        batch_op.create_index('ix_receipts_void_at', ['void_at'], unique=False,
                              sqlite_where=sa.text('void_at IS NOT NULL'),
                              postgresql_where=sa.text('void_at IS NOT NULL'))


def downgrade():
    with op.batch_alter_table('receipts', schema=None) as batch_op:
        batch_op.drop_index('ix_receipts_void_at', sqlite_where=sa.text('void_at IS NOT NULL'),
                            postgresql_where=sa.text('void_at IS NOT NULL'))
    with op.batch_alter_table('volunteer_activities', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_volunteer_activities_people_served_not_negative'), type_='check')
        batch_op.drop_column('people_served')
    op.execute("DELETE FROM user_roles WHERE role IN ('volunteer', 'organiser')")
    _role_check(OLD_ROLES)
