"""The foundation's calendar: "today" is the date where the foundation is (TIMEZONE), not the server's."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

DEFAULT_TIMEZONE = "Asia/Shanghai"


def local_today() -> dt.date:
    name = current_app.config.get("BABEL_DEFAULT_TIMEZONE", DEFAULT_TIMEZONE) if has_app_context() else DEFAULT_TIMEZONE
    return dt.datetime.now(ZoneInfo(name)).date()
