"""fundapp.web.row_id: ids from user input never reach the database out of range (a PostgreSQL error, a 500)."""

from __future__ import annotations

import pytest

from fundapp.web import MAX_ROW_ID, row_id


@pytest.mark.parametrize("value, expected", [("1", 1), (" 42 ", 42), (7, 7), (str(MAX_ROW_ID), MAX_ROW_ID)])
def test_whole_numbers_in_range_are_ids(value, expected):
    assert row_id(value) == expected


@pytest.mark.parametrize("value", ["", "0", "-1", str(MAX_ROW_ID + 1), "9" * 40, "1.5", "１２", "1e3", None, True,
                                   "12\x00", 0, [1]])
def test_anything_else_is_none(value):
    assert row_id(value) is None
