"""volunteers: volunteers, activities, shifts, sign-ups, service records and the time bank's point ledger
(accounts, entries, lines; entries and lines immutable)

Revision ID: 9f6c4d2e8a33
Revises: 8e5b3c1d7f22
Create Date: 2026-11-26 06:11:44.928426

"""
from alembic import op
import sqlalchemy as sa
import fundapp.db  # noqa: F401 (MoneyType)


# revision identifiers, used by Alembic.
revision = '9f6c4d2e8a33'
down_revision = '8e5b3c1d7f22'
branch_labels = None
depends_on = None

IMMUTABLE = ("point_entries", "point_lines")


def _guards(create: bool) -> list[str]:
    """Entries and lines never change once written: UPDATE and DELETE are refused by the database itself.
    PostgreSQL reuses fundapp_refuse_change() (created by the grants migration)."""
    if op.get_bind().dialect.name == "postgresql":
        if create:
            return [f"CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table} "
                    f"FOR EACH ROW EXECUTE FUNCTION fundapp_refuse_change()" for table in IMMUTABLE]
        return [f"DROP TRIGGER IF EXISTS {table}_immutable ON {table}" for table in IMMUTABLE]
    names = [(table, action.lower(), action) for table in IMMUTABLE for action in ("UPDATE", "DELETE")]
    if create:
        return [f"CREATE TRIGGER {table}_no_{name} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} rows are immutable'); END" for table, name, action in names]
    return [f"DROP TRIGGER IF EXISTS {table}_no_{name}" for table, name, _action in names]


def upgrade():
    op.create_table('point_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('effective_date', sa.Date(), nullable=False),
    sa.Column('memo', sa.String(length=300), nullable=False),
    sa.Column('idempotency_key', sa.String(length=120), nullable=False),
    sa.Column('reverses_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(kind = 'reversal') = (reverses_id IS NOT NULL)", name=op.f('ck_point_entries_reversal_names_its_entry')),
    sa.CheckConstraint("kind IN ('hours', 'gift', 'redemption', 'expiry', 'reversal')", name=op.f('ck_point_entries_valid_kind')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_point_entries_created_by_id_users')),
    sa.ForeignKeyConstraint(['reverses_id'], ['point_entries.id'], name=op.f('fk_point_entries_reverses_id_point_entries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_point_entries')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_point_entries_idempotency_key')),
    sa.UniqueConstraint('reverses_id', name=op.f('uq_point_entries_reverses_id'))
    )
    op.create_table('volunteers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('phone', sa.String(length=50), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('community', sa.String(length=100), nullable=False),
    sa.Column('skills', sa.Text(), nullable=False),
    sa.Column('consent_public', sa.Boolean(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_volunteers_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteers')),
    sa.UniqueConstraint('user_id', name=op.f('uq_volunteers_user_id'))
    )
    op.create_table('point_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('volunteer_id', sa.Integer(), nullable=True),
    sa.Column('holder_name', sa.String(length=100), nullable=False),
    sa.Column('balance', fundapp.db.MoneyType(precision=18, scale=2), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(kind = 'volunteer') = (volunteer_id IS NOT NULL)", name=op.f('ck_point_accounts_volunteer_account_has_volunteer')),
    sa.CheckConstraint("kind <> 'person' OR holder_name <> ''", name=op.f('ck_point_accounts_person_account_named')),
    sa.CheckConstraint("kind IN ('volunteer', 'person', 'issuance', 'redemption', 'expiry')", name=op.f('ck_point_accounts_valid_kind')),
    sa.CheckConstraint("kind NOT IN ('volunteer', 'person') OR balance >= 0", name=op.f('ck_point_accounts_holder_not_negative')),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteers.id'], name=op.f('fk_point_accounts_volunteer_id_volunteers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_point_accounts')),
    sa.UniqueConstraint('volunteer_id', name=op.f('uq_point_accounts_volunteer_id'))
    )
    op.create_table('point_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('amount', fundapp.db.MoneyType(precision=18, scale=2), nullable=False),
    sa.CheckConstraint('amount <> 0', name=op.f('ck_point_lines_nonzero_amount')),
    sa.ForeignKeyConstraint(['account_id'], ['point_accounts.id'], name=op.f('fk_point_lines_account_id_point_accounts')),
    sa.ForeignKeyConstraint(['entry_id'], ['point_entries.id'], name=op.f('fk_point_lines_entry_id_point_entries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_point_lines'))
    )
    with op.batch_alter_table('point_lines', schema=None) as batch_op:
        batch_op.create_index('ix_point_lines_account_entry', ['account_id', 'entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_point_lines_entry_id'), ['entry_id'], unique=False)

    op.create_table('volunteer_activities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('community', sa.String(length=100), nullable=False),
    sa.Column('award_id', sa.Integer(), nullable=True),
    sa.Column('organiser_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('open', 'closed')", name=op.f('ck_volunteer_activities_valid_status')),
    sa.ForeignKeyConstraint(['award_id'], ['awards.id'], name=op.f('fk_volunteer_activities_award_id_awards')),
    sa.ForeignKeyConstraint(['organiser_id'], ['users.id'], name=op.f('fk_volunteer_activities_organiser_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteer_activities'))
    )
    with op.batch_alter_table('volunteer_activities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_volunteer_activities_award_id'), ['award_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_volunteer_activities_organiser_id'), ['organiser_id'], unique=False)

    op.create_table('volunteer_shifts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.CheckConstraint('capacity > 0', name=op.f('ck_volunteer_shifts_positive_capacity')),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_volunteer_shifts_ends_after_start')),
    sa.ForeignKeyConstraint(['activity_id'], ['volunteer_activities.id'], name=op.f('fk_volunteer_shifts_activity_id_volunteer_activities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteer_shifts'))
    )
    with op.batch_alter_table('volunteer_shifts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_volunteer_shifts_activity_id'), ['activity_id'], unique=False)

    op.create_table('volunteer_signups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shift_id', sa.Integer(), nullable=False),
    sa.Column('volunteer_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('checked_in_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('checked_out_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('signed_up', 'checked_in', 'done', 'cancelled')", name=op.f('ck_volunteer_signups_valid_status')),
    sa.CheckConstraint('checked_out_at IS NULL OR (checked_in_at IS NOT NULL AND checked_out_at > checked_in_at)', name=op.f('ck_volunteer_signups_check_out_after_check_in')),
    sa.ForeignKeyConstraint(['shift_id'], ['volunteer_shifts.id'], name=op.f('fk_volunteer_signups_shift_id_volunteer_shifts')),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteers.id'], name=op.f('fk_volunteer_signups_volunteer_id_volunteers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteer_signups')),
    sa.UniqueConstraint('shift_id', 'volunteer_id', name='uq_volunteer_signups_shift_volunteer')
    )
    with op.batch_alter_table('volunteer_signups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_volunteer_signups_shift_id'), ['shift_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_volunteer_signups_volunteer_id'), ['volunteer_id'], unique=False)

    op.create_table('volunteer_service_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('signup_id', sa.Integer(), nullable=False),
    sa.Column('hours', fundapp.db.MoneyType(precision=18, scale=2), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('entered_by_id', sa.Integer(), nullable=True),
    sa.Column('point_entry_id', sa.Integer(), nullable=True),
    sa.Column('verified_by_id', sa.Integer(), nullable=True),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('replaces_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(status IN ('verified', 'reversed')) = (point_entry_id IS NOT NULL)", name=op.f('ck_volunteer_service_records_credited_when_verified')),
    sa.CheckConstraint("status IN ('pending', 'verified', 'reversed', 'rejected')", name=op.f('ck_volunteer_service_records_valid_status')),
    sa.CheckConstraint('hours > 0', name=op.f('ck_volunteer_service_records_positive_hours')),
    sa.ForeignKeyConstraint(['entered_by_id'], ['users.id'], name=op.f('fk_volunteer_service_records_entered_by_id_users')),
    sa.ForeignKeyConstraint(['point_entry_id'], ['point_entries.id'], name=op.f('fk_volunteer_service_records_point_entry_id_point_entries')),
    sa.ForeignKeyConstraint(['replaces_id'], ['volunteer_service_records.id'], name=op.f('fk_volunteer_service_records_replaces_id_volunteer_service_records')),
    sa.ForeignKeyConstraint(['signup_id'], ['volunteer_signups.id'], name=op.f('fk_volunteer_service_records_signup_id_volunteer_signups')),
    sa.ForeignKeyConstraint(['verified_by_id'], ['users.id'], name=op.f('fk_volunteer_service_records_verified_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteer_service_records')),
    sa.UniqueConstraint('point_entry_id', name=op.f('uq_volunteer_service_records_point_entry_id')),
    sa.UniqueConstraint('replaces_id', name=op.f('uq_volunteer_service_records_replaces_id'))
    )
    with op.batch_alter_table('volunteer_service_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_volunteer_service_records_signup_id'), ['signup_id'], unique=False)

    op.create_table('volunteer_rewards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('points', fundapp.db.MoneyType(precision=18, scale=2), nullable=False),
    sa.Column('stock', sa.Integer(), nullable=False),
    sa.Column('donor_label', sa.String(length=200), nullable=False),
    sa.Column('donation_id', sa.Integer(), nullable=True),
    sa.Column('fund_id', sa.Integer(), nullable=True),
    sa.Column('unit_value', fundapp.db.MoneyType(precision=18, scale=2), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('goods', 'service')", name=op.f('ck_volunteer_rewards_valid_kind')),
    sa.CheckConstraint('points > 0', name=op.f('ck_volunteer_rewards_positive_points')),
    sa.CheckConstraint('stock >= 0', name=op.f('ck_volunteer_rewards_stock_not_negative')),
    sa.CheckConstraint('unit_value IS NULL OR (unit_value > 0 AND fund_id IS NOT NULL)', name=op.f('ck_volunteer_rewards_valued_in_a_fund')),
    sa.ForeignKeyConstraint(['donation_id'], ['donations.id'], name=op.f('fk_volunteer_rewards_donation_id_donations')),
    sa.ForeignKeyConstraint(['fund_id'], ['funds.id'], name=op.f('fk_volunteer_rewards_fund_id_funds')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteer_rewards'))
    )
    with op.batch_alter_table('volunteer_rewards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_volunteer_rewards_donation_id'), ['donation_id'], unique=False)

    op.create_table('volunteer_redemptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('reward_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('points', fundapp.db.MoneyType(precision=18, scale=2), nullable=False),
    sa.Column('point_entry_id', sa.Integer(), nullable=False),
    sa.Column('journal_entry_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_volunteer_redemptions_positive_quantity')),
    sa.ForeignKeyConstraint(['account_id'], ['point_accounts.id'], name=op.f('fk_volunteer_redemptions_account_id_point_accounts')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_volunteer_redemptions_created_by_id_users')),
    sa.ForeignKeyConstraint(['journal_entry_id'], ['journal_entries.id'], name=op.f('fk_volunteer_redemptions_journal_entry_id_journal_entries')),
    sa.ForeignKeyConstraint(['point_entry_id'], ['point_entries.id'], name=op.f('fk_volunteer_redemptions_point_entry_id_point_entries')),
    sa.ForeignKeyConstraint(['reward_id'], ['volunteer_rewards.id'], name=op.f('fk_volunteer_redemptions_reward_id_volunteer_rewards')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteer_redemptions')),
    sa.UniqueConstraint('journal_entry_id', name=op.f('uq_volunteer_redemptions_journal_entry_id')),
    sa.UniqueConstraint('key', name=op.f('uq_volunteer_redemptions_key')),
    sa.UniqueConstraint('point_entry_id', name=op.f('uq_volunteer_redemptions_point_entry_id'))
    )
    with op.batch_alter_table('volunteer_redemptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_volunteer_redemptions_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_volunteer_redemptions_reward_id'), ['reward_id'], unique=False)
    op.create_table('volunteer_certificates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('volunteer_id', sa.Integer(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('hours', fundapp.db.MoneyType(precision=18, scale=2), nullable=False),
    sa.Column('activities', sa.Integer(), nullable=False),
    sa.Column('issued_by_id', sa.Integer(), nullable=True),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['issued_by_id'], ['users.id'], name=op.f('fk_volunteer_certificates_issued_by_id_users')),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteers.id'], name=op.f('fk_volunteer_certificates_volunteer_id_volunteers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteer_certificates')),
    sa.UniqueConstraint('code', name=op.f('uq_volunteer_certificates_code'))
    )
    with op.batch_alter_table('volunteer_certificates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_volunteer_certificates_volunteer_id'), ['volunteer_id'], unique=False)
    for statement in _guards(create=True):
        op.execute(statement)


def downgrade():
    for statement in _guards(create=False):
        op.execute(statement)
    with op.batch_alter_table('volunteer_certificates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_volunteer_certificates_volunteer_id'))

    op.drop_table('volunteer_certificates')
    with op.batch_alter_table('volunteer_redemptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_volunteer_redemptions_reward_id'))
        batch_op.drop_index(batch_op.f('ix_volunteer_redemptions_account_id'))

    op.drop_table('volunteer_redemptions')
    with op.batch_alter_table('volunteer_rewards', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_volunteer_rewards_donation_id'))

    op.drop_table('volunteer_rewards')
    with op.batch_alter_table('volunteer_service_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_volunteer_service_records_signup_id'))

    op.drop_table('volunteer_service_records')
    with op.batch_alter_table('volunteer_signups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_volunteer_signups_volunteer_id'))
        batch_op.drop_index(batch_op.f('ix_volunteer_signups_shift_id'))

    op.drop_table('volunteer_signups')
    with op.batch_alter_table('volunteer_shifts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_volunteer_shifts_activity_id'))

    op.drop_table('volunteer_shifts')
    with op.batch_alter_table('volunteer_activities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_volunteer_activities_organiser_id'))
        batch_op.drop_index(batch_op.f('ix_volunteer_activities_award_id'))

    op.drop_table('volunteer_activities')
    with op.batch_alter_table('point_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_point_lines_entry_id'))
        batch_op.drop_index('ix_point_lines_account_entry')

    op.drop_table('point_lines')
    op.drop_table('point_accounts')
    op.drop_table('volunteers')
    op.drop_table('point_entries')
