"""Declarative base, naming convention and shared column types."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Annotated

from sqlalchemy import BigInteger, DateTime, MetaData, Numeric, String, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def enum_values(enum_cls: type[enum.Enum]) -> str:
    """`'a', 'b'` for a CHECK (column IN (...)) over an enum's values."""
    return ", ".join(f"'{member.value}'" for member in enum_cls)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class MoneyType(TypeDecorator):
    """`Numeric(18, 2)` on PostgreSQL; exact integer cents on SQLite.

    SQLite has no decimal type: its NUMERIC affinity stores REAL and `SUM()` adds floats. Integer cents keep
    every amount and every sum exact there (up to 9.2e16 yuan), and Python always sees a two-place Decimal.
    """

    impl = Numeric(18, 2)
    cache_ok = True

    def __init__(self, precision: int = 18, scale: int = 2):
        if scale != 2:
            raise ValueError("money has two decimal places")
        super().__init__()
        self.precision = precision
        self.impl = Numeric(precision, 2)

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(self.precision, 2, asdecimal=True))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("money must not be a float")
        value = Decimal(value)
        if dialect.name == "sqlite":
            cents = value * 100
            if cents != cents.to_integral_value():
                raise ValueError(f"amount {value} has more than two decimals")
            return int(cents)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if dialect.name == "sqlite":
            return (Decimal(int(value)) / 100).quantize(Decimal("0.01"))
        return Decimal(value).quantize(Decimal("0.01"))


# Money: exact decimal, 18 digits, 2 places. Never a float.
Money = Annotated[Decimal, mapped_column(MoneyType())]
UtcNow = Annotated[dt.datetime, mapped_column(DateTime(timezone=True), default=utcnow)]
Str200 = Annotated[str, mapped_column(String(200))]


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:  # pragma: no cover - trivial
    """SQLite: enforce foreign keys and let SQLAlchemy own transactions (so SAVEPOINT works)."""
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn) -> None:  # pragma: no cover - trivial
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("immediate") else "BEGIN")
