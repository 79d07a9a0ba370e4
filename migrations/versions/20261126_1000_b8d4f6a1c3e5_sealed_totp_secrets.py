"""two-factor secrets sealed: user_two_factor.secret and pending_secret hold Fernet tokens (fundapp/auth/sealed.py);
existing plain secrets are sealed with the running app's key

Revision ID: b8d4f6a1c3e5
Revises: a7c3e5f9b214
Create Date: 2026-11-26 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b8d4f6a1c3e5'
down_revision = 'a7c3e5f9b214'
branch_labels = None
depends_on = None

COLUMNS = ('secret', 'pending_secret')


def _rewrite(convert) -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT user_id, secret, pending_secret FROM user_two_factor")).all()
    for user_id, secret, pending in rows:
        conn.execute(sa.text("UPDATE user_two_factor SET secret = :s, pending_secret = :p WHERE user_id = :u"),
                     {"s": convert(secret), "p": convert(pending), "u": user_id})


def upgrade():
    from fundapp.auth.sealed import PREFIX, seal

    with op.batch_alter_table('user_two_factor', schema=None) as batch_op:
        for column in COLUMNS:
            batch_op.alter_column(column, existing_type=sa.String(length=64), type_=sa.String(length=255),
                                  existing_nullable=True)
    _rewrite(lambda value: value if value is None or value.startswith(PREFIX) else seal(value))


def downgrade():
    from fundapp.auth.sealed import PREFIX, unseal

    _rewrite(lambda value: unseal(value) or None if value is not None and value.startswith(PREFIX) else value)
    with op.batch_alter_table('user_two_factor', schema=None) as batch_op:
        for column in COLUMNS:
            batch_op.alter_column(column, existing_type=sa.String(length=255), type_=sa.String(length=64),
                                  existing_nullable=True)
