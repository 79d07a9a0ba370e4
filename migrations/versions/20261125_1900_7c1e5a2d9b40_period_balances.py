"""period balances: year, month and day balance rows replace the monthly rows

A balance as of any date now reads at most (years + 11 + 31) rows per account/fund/class and never scans lines,
so its cost does not grow with the ledger. The rows are rebuilt from the journal lines here.

Revision ID: 7c1e5a2d9b40
Revises: 2b4c345423a8
Create Date: 2026-11-25 19:00:00
"""

import sqlalchemy as sa
from alembic import op

import fundapp.db

revision = "7c1e5a2d9b40"
down_revision = "2b4c345423a8"
branch_labels = None
depends_on = None

GRAINS = {"postgresql": {"y": "YYYY", "m": "YYYYMM", "d": "YYYYMMDD"}, "sqlite": {"y": "%Y", "m": "%Y%m", "d": "%Y%m%d"}}


def _period_sql(dialect: str, grain: str) -> str:
    pattern = GRAINS[dialect][grain]
    if dialect == "postgresql":
        return f"CAST(to_char(effective_date, '{pattern}') AS INTEGER)"
    return f"CAST(strftime('{pattern}', effective_date) AS INTEGER)"


def upgrade():
    op.create_table(
        "period_balances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("fund_id", sa.Integer(), nullable=False),
        sa.Column("net_asset_class", sa.String(length=20), nullable=False),
        sa.Column("grain", sa.String(length=1), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("amount", fundapp.db.MoneyType(precision=24, scale=2), nullable=False),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.CheckConstraint("grain IN ('y', 'm', 'd')", name=op.f("ck_period_balances_valid_grain")),
        sa.CheckConstraint("line_count >= 0", name=op.f("ck_period_balances_nonnegative_count")),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_period_balances_account_id_accounts")),
        sa.ForeignKeyConstraint(["fund_id"], ["funds.id"], name=op.f("fk_period_balances_fund_id_funds")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_period_balances")),
        sa.UniqueConstraint(
            "grain", "period", "account_id", "fund_id", "net_asset_class", name="uq_period_balances_key"
        ),
    )
    dialect = op.get_bind().dialect.name
    for grain in ("y", "m", "d"):
        period = _period_sql(dialect, grain)
        op.execute(
            "INSERT INTO period_balances (account_id, fund_id, net_asset_class, grain, period, amount, line_count) "
            f"SELECT account_id, fund_id, net_asset_class, '{grain}', {period}, SUM(amount), COUNT(*) "
            f"FROM journal_lines GROUP BY account_id, fund_id, net_asset_class, {period}"
        )
    with op.batch_alter_table("monthly_balances", schema=None) as batch_op:
        batch_op.drop_index("ix_monthly_balances_month")
    op.drop_table("monthly_balances")


def downgrade():
    op.create_table(
        "monthly_balances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("fund_id", sa.Integer(), nullable=False),
        sa.Column("net_asset_class", sa.String(length=20), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("amount", fundapp.db.MoneyType(precision=24, scale=2), nullable=False),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.CheckConstraint("line_count >= 0", name=op.f("ck_monthly_balances_nonnegative_count")),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_monthly_balances_account_id_accounts")),
        sa.ForeignKeyConstraint(["fund_id"], ["funds.id"], name=op.f("fk_monthly_balances_fund_id_funds")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monthly_balances")),
        sa.UniqueConstraint("account_id", "fund_id", "net_asset_class", "month", name="uq_monthly_balances_key"),
    )
    with op.batch_alter_table("monthly_balances", schema=None) as batch_op:
        batch_op.create_index("ix_monthly_balances_month", ["month"], unique=False)
    op.execute(
        "INSERT INTO monthly_balances (account_id, fund_id, net_asset_class, month, amount, line_count) "
        "SELECT account_id, fund_id, net_asset_class, period, amount, line_count FROM period_balances WHERE grain = 'm'"
    )
    op.drop_table("period_balances")
