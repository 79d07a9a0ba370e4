"""Fuzzing the donation import (`flask donations import`): hypothesis writes CSV files with random rows, columns
in any order and language, encodings, delimiters, BOMs, formula-looking cells, huge or negative numbers and bad
dates. The command never dies of an unhandled exception, and an import is all or nothing: exit 0 posts every row
(one donation and one journal entry each), exit 1 writes nothing at all, and `--check` never writes."""

from __future__ import annotations

import csv
import io
import re
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.factories import make_fund
from tests.fuzz.conftest import FUZZ
from tests.unit.donations.factories import make_donor

# field -> (English header, Chinese header)
HEADERS = {"date": ("date", "日期"), "donor": ("donor", "捐赠人"), "amount": ("amount", "金额"),
           "fund": ("fund", "基金编号"), "method": ("method", "方式"), "restricted": ("restricted", "是否限定"),
           "purpose": ("purpose", "用途"), "reference": ("reference", "流水号"), "anonymous": ("anonymous", "匿名")}
OPTIONAL = ("restricted", "purpose", "anonymous")
FORMULAS = ["=1+1", "=HYPERLINK(\"http://x\")", "+SUM(A1:A9)", "-2+3", "@cmd", "=cmd|' /C calc'!A0"]
GARBAGE = st.one_of(st.sampled_from(FORMULAS + ["", " ", "NaN", "null", "\u200b", "１２３", "𝟙𝟚"]),
                    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30))

DATES = st.one_of(st.dates(min_value=__import__("datetime").date(2025, 1, 1),
                           max_value=__import__("datetime").date(2026, 6, 30)).map(str),
                  st.sampled_from(["2026/1/5", "2026年1月5日", "2026-02-30", "05/01/2026", "45000", "2026-01-05T10:00",
                                   "9999-12-31", "0001-01-01", "2099-01-01"]), GARBAGE)
AMOUNTS = st.one_of(st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False).map(str),
                    st.sampled_from(["¥1,000.50", "1,23", "-5", "(5)", "1e9", "9" * 30, "0", "0.00", "1.234", "５０",
                                     "100元", "RMB 12", "9999999999999999.99", "inf"]), GARBAGE)
METHODS = st.one_of(st.sampled_from(["cash", "现金", "bank_transfer", "银行转账", "online", "支付宝", "in kind",
                                     "实物"]),
                    GARBAGE)
FLAGS = st.one_of(st.sampled_from(["", "yes", "no", "是", "否", "限定", "y"]), GARBAGE)
FUNDS = st.one_of(st.sampled_from(["IMP", "imp", "ＩＭＰ", "NOPE", ""]), GARBAGE)
DONORS = st.one_of(st.sampled_from(["Import Donor", "#1", "#999999999", ""]), GARBAGE)
REFERENCES = st.one_of(st.sampled_from(["1.2E+15", "", "R" * 150, "=A1"]), GARBAGE)


@st.composite
def import_file(draw) -> tuple[bytes, int]:
    """A CSV file and the number of its non-blank data rows."""
    optional = draw(st.lists(st.sampled_from(OPTIONAL), unique=True))
    fields = draw(st.permutations([f for f in HEADERS if f not in OPTIONAL] + optional))
    if draw(st.integers(0, 9)) == 0:  # now and then a column missing, unknown or twice
        fields = draw(st.sampled_from([fields[1:], [*fields, "colour"], [*fields, fields[0]]]))
    chinese = draw(st.booleans())
    header = [HEADERS[f][chinese] if f in HEADERS else f for f in fields]
    good = draw(st.booleans())  # half the files are meant to import, half are a mess
    rows = []
    for index in range(draw(st.integers(0, 6))):
        valid = {"date": draw(DATES) if not good else "2026-01-05", "donor": "Import Donor" if good else draw(DONORS),
                 "amount": "100.00" if good else draw(AMOUNTS), "fund": "IMP" if good else draw(FUNDS),
                 "method": "cash" if good else draw(METHODS), "restricted": "" if good else draw(FLAGS),
                 "purpose": draw(st.one_of(st.just(""), GARBAGE, st.just("用途" * 300))),
                 "reference": f"{draw(st.sampled_from(['R', '=R', '+R']))}{index}" if good else draw(REFERENCES),
                 "anonymous": "" if good else draw(FLAGS)}
        if good and draw(st.integers(0, 4)) == 0:  # one bad cell in an otherwise good file
            column = draw(st.sampled_from(["date", "amount", "fund", "method", "reference"]))
            valid[column] = draw({"date": DATES, "amount": AMOUNTS, "fund": FUNDS, "method": METHODS,
                                  "reference": REFERENCES}[column])
        rows.append([valid.get(f, draw(GARBAGE)) for f in fields])
    delimiter = draw(st.sampled_from([",", ",", "\t", ";"]))
    text = io.StringIO()
    csv.writer(text, delimiter=delimiter, lineterminator=draw(st.sampled_from(["\n", "\r\n"]))).writerows([header,
                                                                                                          *rows])
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16"]))
    data = text.getvalue().encode(encoding)
    if draw(st.integers(0, 9)) == 0:  # a stray byte: broken UTF-8
        data = data + b"\xff\xfe\x80"
    blank = sum(all(not cell.strip() for cell in row) for row in rows)
    return data, len(rows) - blank


@pytest.fixture()
def setup(app_ctx):
    with app_ctx() as s:
        make_fund(s, "IMP", name="Import Fund")
        make_donor(s, "Import Donor")
        s.commit()


def run_import(app, tmp_path, data: bytes, *options: str):
    path = tmp_path / f"{uuid.uuid4().hex}.csv"
    path.write_bytes(data)
    result = app.test_cli_runner().invoke(args=["donations", "import", *options, str(path)])
    path.unlink()
    return result


def assert_handled(result) -> None:
    """Exit 0 or 1 with a message; an exception other than the command's own SystemExit is a bug."""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code in (0, 1), (result.exit_code, result.output)


def test_random_files_are_imported_whole_or_not_at_all(app, setup, tmp_path, row_counts):
    @FUZZ
    @given(file=import_file())
    def run(file):
        data, rows = file
        before = row_counts()
        checked = run_import(app, tmp_path, data, "--check")
        assert_handled(checked)
        assert row_counts() == before, "--check wrote to the database"
        result = run_import(app, tmp_path, data)
        assert_handled(result)
        after = row_counts()
        changed = {table: after[table] - before[table] for table in after if after[table] != before[table]}
        if result.exit_code == 1:
            assert not changed, (changed, result.output)
            return
        assert checked.exit_code == 0, (checked.output, result.output)
        if "nothing to import" in result.output:
            assert not changed
            return
        # rows of earlier examples (same references) are skipped: posted + skipped covers every row
        posted, skipped = map(int, re.search(r"imported (\d+) donations .*; (\d+) rows were imported before",
                                             result.output).groups())
        assert posted + skipped == rows and posted > 0, (posted, skipped, rows, result.output)
        assert changed.get("donations") == posted, (changed, posted, result.output)
        assert changed.get("journal_entries") == posted and changed.get("journal_lines") == 2 * posted, changed
        assert set(changed) <= {"donations", "journal_entries", "journal_lines", "audit_events", "donors"}, changed
        again = run_import(app, tmp_path, data)  # a second run posts nothing
        assert again.exit_code == 0 and "nothing to import" in again.output, again.output
        assert row_counts() == after

    run()


@FUZZ
@given(data=st.one_of(st.binary(max_size=300), st.builds(lambda b: b"PK\x03\x04" + b, st.binary(max_size=200)),
                      st.builds(lambda b: b"\xd0\xcf\x11\xe0" + b, st.binary(max_size=50))))
def test_random_bytes_are_refused_cleanly(app, setup, tmp_path, row_counts, data):
    before = row_counts()
    result = run_import(app, tmp_path, data)
    assert_handled(result)
    assert result.exit_code == 1 and row_counts() == before, result.output
