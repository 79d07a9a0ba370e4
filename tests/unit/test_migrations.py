"""The migrations build exactly the schema the models describe, and go down and up again cleanly."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from config import TestingConfig
from fundapp import create_app
from fundapp.db import Base
from fundapp.extensions import db
from tests.conftest import PG_URL

TRIGGERS_SQL = {
    "sqlite": "SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name",
    "postgresql": "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal ORDER BY tgname",
}
FUNCTIONS_SQL = "SELECT proname FROM pg_proc WHERE proname LIKE 'fundapp%' ORDER BY proname"


@pytest.fixture(params=["sqlite", "postgresql"])
def bare_app(request, fresh_database_url):
    """An app on a new, empty database (no migrations run)."""
    if request.param == "postgresql" and not PG_URL:
        pytest.skip("TEST_DATABASE_URL is not set: PostgreSQL runs skipped")
    url = fresh_database_url(request.param, "migrations")
    app = create_app({**{k: getattr(TestingConfig, k) for k in dir(TestingConfig) if k.isupper()},
                      "SQLALCHEMY_DATABASE_URI": url})
    yield app
    with app.app_context():
        db.engine.dispose()
    if request.param == "postgresql":
        admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{sa.make_url(url).database}" WITH (FORCE)'))
        admin.dispose()


def flask_db(app, *args: str) -> None:
    result = app.test_cli_runner().invoke(args=["db", *args])
    assert result.exit_code == 0, result.output + repr(result.exception)


def schema_drift(app) -> list:
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": False})
        return compare_metadata(context, Base.metadata)


def rows(app, sql: str) -> list:
    with app.app_context(), db.engine.connect() as conn:
        return list(conn.scalars(sa.text(sql)))


def table_names(app) -> set[str]:
    with app.app_context():
        return set(sa.inspect(db.engine).get_table_names())


def test_upgrade_matches_the_models(bare_app):
    flask_db(bare_app, "upgrade")
    assert schema_drift(bare_app) == []
    assert set(Base.metadata.tables) <= table_names(bare_app)


def test_downgrade_to_base_and_upgrade_again(bare_app):
    flask_db(bare_app, "upgrade")
    dialect = sa.make_url(bare_app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name()
    triggers = rows(bare_app, TRIGGERS_SQL[dialect])
    assert "journal_lines_open_period" in triggers

    flask_db(bare_app, "downgrade", "base")
    assert table_names(bare_app) <= {"alembic_version"}
    assert rows(bare_app, TRIGGERS_SQL[dialect]) == []
    if dialect == "postgresql":
        assert rows(bare_app, FUNCTIONS_SQL) == []

    flask_db(bare_app, "upgrade")
    assert schema_drift(bare_app) == []
    assert rows(bare_app, TRIGGERS_SQL[dialect]) == triggers
    assert rows(bare_app, "SELECT seq FROM ledger_head") == [0]
