"""CSV downloads: streamed, UTF-8 with a byte-order mark (so Excel reads Chinese), formula-safe text cells."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from flask import Response, stream_with_context

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> str:
    """Text that a spreadsheet would run as a formula is prefixed with a quote; numbers and dates stay as they are."""
    if value is None:
        return ""
    if not isinstance(value, str):
        return str(value)
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def line(values: Iterable[object]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow([cell(value) for value in values])
    return buffer.getvalue()


def response(lines: Iterable[str], filename: str) -> Response:
    """Stream `lines` (from `line`) as a CSV attachment."""

    def with_bom() -> Iterator[str]:
        yield "\ufeff"
        yield from lines

    return Response(stream_with_context(with_bom()), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
