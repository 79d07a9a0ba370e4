"""Disclosure duties marked done by staff (the duties themselves are computed from the data, never stored)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fundapp.db import Base, utcnow


class DutyDone(Base):
    """Evidence that a computed duty (by its stable key, e.g. "annual-work-report:2025") was fulfilled."""

    __tablename__ = "compliance_duties_done"

    id: Mapped[int] = mapped_column(primary_key=True)
    duty_key: Mapped[str] = mapped_column(String(100), unique=True)
    done_on: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    user = relationship("User")
