"""balance check without LIMIT: the deferred per-entry balance check reads one entry's lines by entry_id

With `... GROUP BY fund_id HAVING sum(amount) <> 0 LIMIT 1` and no table statistics (autovacuum off, or a big
load in one transaction) PostgreSQL chose to scan the whole fund/date index for every committed line, which
made large commits quadratic. Without LIMIT the planner uses the (entry_id, line_no) index; SELECT INTO still
takes the first offending fund. PostgreSQL only (SQLite has no such trigger).

Revision ID: 4e8a1f0c2b77
Revises: dab116987cc7
Create Date: 2026-11-25 20:00:00
"""

from alembic import op

revision = "4e8a1f0c2b77"
down_revision = "dab116987cc7"
branch_labels = None
depends_on = None

NEW_FUNCTION = """
    CREATE OR REPLACE FUNCTION fundapp_check_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        entry integer;
        line_count integer;
        total numeric;
        bad_fund integer;
    BEGIN
        -- Separate statements: a CASE would resolve NEW.entry_id on journal_entries too, and fail.
        IF TG_TABLE_NAME = 'journal_entries' THEN
            entry := NEW.id;
        ELSE
            entry := NEW.entry_id;
        END IF;
        SELECT count(*), coalesce(sum(amount), 0) INTO line_count, total FROM journal_lines WHERE entry_id = entry;
        IF line_count < 2 THEN
            RAISE EXCEPTION 'journal entry % has % line(s); at least two are needed', entry, line_count
                USING ERRCODE = 'check_violation';
        END IF;
        IF total <> 0 THEN
            RAISE EXCEPTION 'journal entry % does not balance (off by %)', entry, total USING ERRCODE = 'check_violation';
        END IF;
        SELECT fund_id INTO bad_fund FROM journal_lines WHERE entry_id = entry
            GROUP BY fund_id HAVING sum(amount) <> 0;
        IF FOUND THEN
            RAISE EXCEPTION 'journal entry % does not balance within fund %', entry, bad_fund
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
    END $$
"""

OLD_FUNCTION = """
    CREATE OR REPLACE FUNCTION fundapp_check_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        entry integer;
        line_count integer;
        total numeric;
        bad_fund integer;
    BEGIN
        -- Separate statements: a CASE would resolve NEW.entry_id on journal_entries too, and fail.
        IF TG_TABLE_NAME = 'journal_entries' THEN
            entry := NEW.id;
        ELSE
            entry := NEW.entry_id;
        END IF;
        SELECT count(*), coalesce(sum(amount), 0) INTO line_count, total FROM journal_lines WHERE entry_id = entry;
        IF line_count < 2 THEN
            RAISE EXCEPTION 'journal entry % has % line(s); at least two are needed', entry, line_count
                USING ERRCODE = 'check_violation';
        END IF;
        IF total <> 0 THEN
            RAISE EXCEPTION 'journal entry % does not balance (off by %)', entry, total USING ERRCODE = 'check_violation';
        END IF;
        SELECT fund_id INTO bad_fund FROM journal_lines WHERE entry_id = entry
            GROUP BY fund_id HAVING sum(amount) <> 0 LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'journal entry % does not balance within fund %', entry, bad_fund
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
    END $$
"""


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(NEW_FUNCTION)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(OLD_FUNCTION)
