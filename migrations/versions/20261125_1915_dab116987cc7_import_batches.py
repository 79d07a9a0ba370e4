"""import batches: uploaded donation files, their check (the preview) and the problems found per row

Revision ID: dab116987cc7
Revises: 180b49a387f1
Create Date: 2026-11-25 19:15:00
"""

import sqlalchemy as sa
from alembic import op

import fundapp.db

revision = "dab116987cc7"
down_revision = "180b49a387f1"
branch_labels = None
depends_on = None

STATUSES = "'checking', 'checked', 'invalid', 'importing', 'imported', 'failed'"


def upgrade():
    op.create_table(
        "import_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("stored_name", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("locale", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("total_rows", sa.Integer(), nullable=False),
        sa.Column("new_rows", sa.Integer(), nullable=False),
        sa.Column("skipped_rows", sa.Integer(), nullable=False),
        sa.Column("problem_count", sa.Integer(), nullable=False),
        sa.Column("posted_rows", sa.Integer(), nullable=False),
        sa.Column("total_amount", fundapp.db.MoneyType(precision=24, scale=2), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("sample", sa.JSON(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(f"status IN ({STATUSES})", name=op.f("ck_import_batches_valid_status")),
        sa.CheckConstraint("size >= 0", name=op.f("ck_import_batches_nonnegative_size")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_import_batches_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_batches")),
        sa.UniqueConstraint("stored_name", name=op.f("uq_import_batches_stored_name")),
    )
    with op.batch_alter_table("import_batches", schema=None) as batch_op:
        batch_op.create_index("ix_import_batches_created_at", ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_import_batches_sha256"), ["sha256"], unique=False)

    op.create_table(
        "import_problems",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("column", sa.String(length=30), nullable=False),
        sa.Column("message", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["import_batches.id"], name=op.f("fk_import_problems_batch_id_import_batches"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_problems")),
    )
    with op.batch_alter_table("import_problems", schema=None) as batch_op:
        batch_op.create_index("ix_import_problems_batch_row", ["batch_id", "row_number"], unique=False)


def downgrade():
    with op.batch_alter_table("import_problems", schema=None) as batch_op:
        batch_op.drop_index("ix_import_problems_batch_row")
    op.drop_table("import_problems")
    with op.batch_alter_table("import_batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_import_batches_sha256"))
        batch_op.drop_index("ix_import_batches_created_at")
    op.drop_table("import_batches")
