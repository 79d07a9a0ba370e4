"""enterprise gift receipts: a receipt is for a donation or for a payment of an enterprise's gift share

- receipts.donation_id becomes nullable; receipts.enterprise_payment_id (FK enterprise_payments.id, indexed) is new;
- CHECK ck_receipts_one_source: exactly one of the two is set;
- uq_receipts_valid_enterprise_payment: at most one valid (void_at IS NULL) receipt per enterprise payment, like
  uq_receipts_valid_donation.

The receipts guard stays as it was: a receipt is immutable except for its void fields, which may be filled in once.
PostgreSQL's fundapp_guard_receipt() compares whole rows minus the void fields, so it covers the new column as it
is; ALTER TABLE keeps its triggers. SQLite rebuilds the table (batch mode), which drops its triggers and indexes:
they are made again here, the guard now listing enterprise_payment_id among the frozen columns.

Downgrade refuses while enterprise receipts exist: receipts are never deleted, and a receipt without a donation
cannot exist in the older schema.

Revision ID: 5b2d7e9c1a30
Revises: 4e8a1f0c2b77
Create Date: 2026-11-26 02:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "5b2d7e9c1a30"
down_revision = "4e8a1f0c2b77"
branch_labels = None
depends_on = None

VALID = sa.text("void_at IS NULL")
ONE_SOURCE = ("(donation_id IS NOT NULL AND enterprise_payment_id IS NULL) "
              "OR (donation_id IS NULL AND enterprise_payment_id IS NOT NULL)")

# The SQLite guard of 2b4c345423a8 (donations), with and without the new column.
RECEIPT_FROZEN_BEFORE = ("id", "year", "number", "donation_id", "issued_on", "issued_at", "issued_by_id",
                         "issuer_name", "foundation_name", "foundation_reg_no", "payer_name", "payer_id_code", "amount",
                         "donation_date", "method", "item", "in_kind_details", "check_code")
RECEIPT_FROZEN = RECEIPT_FROZEN_BEFORE + ("enterprise_payment_id",)


def _sqlite_guard(frozen: tuple[str, ...]) -> list[str]:
    changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in frozen)
    return [
        f"CREATE TRIGGER receipts_guard BEFORE UPDATE ON receipts "
        f"WHEN OLD.void_at IS NOT NULL OR {changed} "
        f"BEGIN SELECT RAISE(ABORT, 'receipts are immutable except for voiding them once'); END",
        "CREATE TRIGGER receipts_no_delete BEFORE DELETE ON receipts "
        "BEGIN SELECT RAISE(ABORT, 'receipts rows are never deleted'); END",
    ]


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _drop_sqlite_guard() -> None:
    op.execute("DROP TRIGGER IF EXISTS receipts_guard")
    op.execute("DROP TRIGGER IF EXISTS receipts_no_delete")


def upgrade():
    sqlite = _sqlite()
    if sqlite:
        _drop_sqlite_guard()  # the rebuild would drop them anyway; made again below
    with op.batch_alter_table("receipts", schema=None) as batch_op:
        # Dropped and made again explicitly, so the rebuilt SQLite table keeps their WHERE clause whatever reflects.
        batch_op.drop_index("uq_receipts_valid_donation", sqlite_where=VALID, postgresql_where=VALID)
        batch_op.drop_index("ix_receipts_donation_id")
        batch_op.alter_column("donation_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("enterprise_payment_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_receipts_enterprise_payment_id_enterprise_payments"),
                                    "enterprise_payments", ["enterprise_payment_id"], ["id"])
        batch_op.create_check_constraint(batch_op.f("ck_receipts_one_source"), ONE_SOURCE)
    with op.batch_alter_table("receipts", schema=None) as batch_op:
        batch_op.create_index("ix_receipts_donation_id", ["donation_id"], unique=False)
        batch_op.create_index("uq_receipts_valid_donation", ["donation_id"], unique=True,
                              sqlite_where=VALID, postgresql_where=VALID)
        batch_op.create_index(batch_op.f("ix_receipts_enterprise_payment_id"), ["enterprise_payment_id"], unique=False)
        batch_op.create_index("uq_receipts_valid_enterprise_payment", ["enterprise_payment_id"], unique=True,
                              sqlite_where=VALID, postgresql_where=VALID)
    if sqlite:
        for statement in _sqlite_guard(RECEIPT_FROZEN):
            op.execute(statement)


def downgrade():
    enterprise_receipts = op.get_bind().scalar(
        sa.text("SELECT count(*) FROM receipts WHERE enterprise_payment_id IS NOT NULL"))
    if enterprise_receipts:
        raise RuntimeError(f"cannot downgrade: {enterprise_receipts} receipts are for enterprise payments, and "
                           "receipts are never deleted")
    sqlite = _sqlite()
    if sqlite:
        _drop_sqlite_guard()
    with op.batch_alter_table("receipts", schema=None) as batch_op:
        batch_op.drop_index("uq_receipts_valid_enterprise_payment", sqlite_where=VALID, postgresql_where=VALID)
        batch_op.drop_index(batch_op.f("ix_receipts_enterprise_payment_id"))
        batch_op.drop_index("uq_receipts_valid_donation", sqlite_where=VALID, postgresql_where=VALID)
        batch_op.drop_index("ix_receipts_donation_id")
        batch_op.drop_constraint(batch_op.f("ck_receipts_one_source"), type_="check")
        batch_op.drop_constraint(batch_op.f("fk_receipts_enterprise_payment_id_enterprise_payments"),
                                 type_="foreignkey")
        batch_op.drop_column("enterprise_payment_id")
        batch_op.alter_column("donation_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("receipts", schema=None) as batch_op:
        batch_op.create_index("ix_receipts_donation_id", ["donation_id"], unique=False)
        batch_op.create_index("uq_receipts_valid_donation", ["donation_id"], unique=True,
                              sqlite_where=VALID, postgresql_where=VALID)
    if sqlite:
        for statement in _sqlite_guard(RECEIPT_FROZEN_BEFORE):
            op.execute(statement)
