"""`flask donations import FILE`: exit codes, every bad row listed, all or nothing, a second run posts nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from fundapp.audit.models import AuditEvent
from fundapp.donations.models import Donation

HEADER = "date,donor,amount,fund,method,restricted,purpose,reference,anonymous"


def write(tmp_path, *rows: str, name: str = "gifts.csv", encoding: str = "utf-8-sig"):
    path = tmp_path / name
    path.write_bytes("\n".join([HEADER, *rows]).encode(encoding))
    return path


def donations(app_ctx) -> int:
    with app_ctx() as s:
        return s.scalar(select(func.count()).select_from(Donation))


def test_bad_rows_are_listed_and_nothing_is_imported(app, app_ctx, setup, tmp_path):
    path = write(tmp_path, "2026-01-05,张三丰,100,GEN,cash,,,C-1,", "2026-01-06,张三丰,1.234,GEN,cash,,,C-2,",
                 "2026-01-07,张三丰,100,GEN,cash,,,C-3,", "06/01/2026,nobody,100,NOPE,cash,,,C-4,")
    result = app.test_cli_runner().invoke(args=["donations", "import", str(path)])
    assert result.exit_code == 1
    assert "row 3 [amount]:" in result.output
    # the command speaks the foundation's language (zh_CN) where a translation exists
    for fragment in ("row 5 [date]: 06/01/2026", "row 5 [donor]:", "nobody", "row 5 [fund]:", "NOPE"):
        assert fragment in result.output
    assert "row 2" not in result.output and "row 4" not in result.output
    assert "4 problems in 2 of 4 rows; nothing was imported" in result.output
    assert donations(app_ctx) == 0


def test_import_then_again_posts_nothing(app, app_ctx, setup, tmp_path, login):
    path = write(tmp_path, "2026-01-05,张三丰,\"1,000\",GEN,银行转账,,,C-1,", "2026/1/6,张三丰,５０,PRJ,现金,,,C-2,",
                 encoding="gb18030")
    runner = app.test_cli_runner()
    checked = runner.invoke(args=["donations", "import", "--check", str(path)])
    assert checked.exit_code == 0 and "2 rows checked, no problems: 2 to import (¥1050.00)" in checked.output
    assert donations(app_ctx) == 0
    first = runner.invoke(args=["donations", "import", str(path)])
    assert first.exit_code == 0, first.output
    assert "imported 2 donations (¥1050.00); 0 rows were imported before and skipped" in first.output
    assert donations(app_ctx) == 2
    second = runner.invoke(args=["donations", "import", str(path)])
    assert second.exit_code == 0
    assert "nothing to import: all 2 rows were imported before; nothing was posted" in second.output
    assert donations(app_ctx) == 2
    with app_ctx() as s:
        posted = s.scalars(select(AuditEvent.after).where(AuditEvent.tag == "donations:import:posted")).all()
        assert len(posted) == 1 and posted[0]["posted"] == 2 and posted[0]["source"] == "cli:gifts.csv"
    assert runner.invoke(args=["donations", "verify"]).exit_code == 0


def test_unreadable_file_and_unknown_user(app, setup, tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text("hello,world\n1,2\n")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["donations", "import", str(path)])
    # the command speaks the foundation's language (zh_CN): "无法识别的列" = "Unknown columns"
    assert result.exit_code == 1 and "无法识别的列：hello, world" in result.output
    good = write(tmp_path, "2026-01-05,张三丰,100,GEN,cash,,,C-1,")
    result = runner.invoke(args=["donations", "import", "--user", "ghost@example.org", str(good)])
    assert result.exit_code == 1 and "there is no user ghost@example.org" in result.output
