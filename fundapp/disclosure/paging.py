"""A page of a list paged by hand (rows of columns, not ORM objects), with what the `pager` macro reads."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Page:
    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return min(self.page - 1, self.pages)  # from a page past the end, back to the last one

    @property
    def next_num(self) -> int:
        return self.page + 1
