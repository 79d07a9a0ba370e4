"""The demo foundation: one user per role, eight funds and about a year of books (`flask demo load`).

Everything is created through the real services (users, funds, chart, post_entry, reverse_entry, period
closing), so the demo obeys every rule the app enforces and `flask ledger verify` passes on it.
Loading is idempotent: once the demo admin exists, `load_demo` is not run again.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from fundapp.auth.services import create_user, find_user_by_email
from fundapp.demo.donations import load_donations
from fundapp.demo.enterprises import load_enterprises
from fundapp.demo.entries import DemoBooks, months_back
from fundapp.funds.services import create_fund
from fundapp.ledger.chart import seed_chart
from fundapp.ledger.models import Fund, FundType, NetAssetClass
from fundapp.ledger.periods import close_period, close_through

DEMO_PASSWORD = "demo-password-2026"
DEMO_DOMAIN = "demo.fundapp.cn"
FOUNDATION_NAME = "某市某区社区基金会"
DEMO_SEED = 20260101
MONTHS = 12

# role, name
DEMO_USERS: tuple[tuple[str, str], ...] = (
    ("admin", "系统管理员 周明"),
    ("finance", "财务 李会计"),
    ("board", "理事 王建国"),
    ("reviewer", "评审专家 陈静"),
    ("donor", "捐赠人 张晓梅"),
    ("applicant", "申请人 刘芳（阳光为老服务中心）"),
    ("enterprise", "邻里便民食堂（社区社会企业）"),
    ("organiser", "社工 吴晓燕（阳光社区社工站）"),  # runs volunteer activities (the time bank: demo/volunteers.py)
    ("volunteer", "志愿者 赵磊"),
)

R, U = NetAssetClass.restricted.value, NetAssetClass.unrestricted.value

# code, name, type, restriction, public, purpose
DEMO_FUNDS: tuple[tuple[str, str, str, str, bool, str], ...] = (
    ("GEN", "非限定性基金", FundType.general.value, U, True,
     "基金会日常运营与非限定性公益支出，由理事会统筹安排使用。"),
    ("MF-YG", "阳光社区微基金", FundType.micro.value, R, True,
     "由阳光社区居民、商户共同发起，用于社区环境微改造、邻里互助和居民议事活动。"),
    ("MF-HP", "和平社区微基金", FundType.micro.value, R, True,
     "由和平社区居委会与居民发起，支持老旧小区加装扶手、楼道美化和青少年课后活动。"),
    ("ELD", "为老服务专项基金", FundType.named.value, R, True,
     "专项用于辖区高龄、独居、失能老人的助餐、助浴、探访和适老化改造。"),
    ("END", "社区发展留本基金", FundType.endowment.value, R, True,
     "本金永久保留，仅以投资收益支持社区发展项目，确保基金会长期可持续运营。"),
    ("SE", "社会企业反哺基金", FundType.enterprise_return.value, U, True,
     "归集社区社会企业按协议反哺的收益分成，用于社区治理和居民自治项目。"),
    ("VEN", "公益创投项目基金", FundType.project.value, R, True,
     "公益创投大赛专项资金，择优资助社会组织在本区开展的创新型社区服务项目。"),
    ("AID", "困境家庭救助项目基金", FundType.project.value, R, False,
     "用于辖区困境家庭的临时救助；涉及受助人隐私，暂不在公开网站展示。"),
)


def demo_email(role: str) -> str:
    return f"{role}@{DEMO_DOMAIN}"


def demo_loaded(session: Session) -> bool:
    """True once the demo data is in (its admin user exists)."""
    return find_user_by_email(session, demo_email("admin")) is not None


def _create_users(session: Session, password: str) -> dict[str, Any]:
    users: dict[str, Any] = {}
    for role, name in DEMO_USERS:
        users[role] = create_user(session, demo_email(role), password, [role], name=name, actor=users.get("admin"))
    return users


def _create_funds(session: Session, actor: Any) -> dict[str, Fund]:
    funds: dict[str, Fund] = {}
    for code, name, fund_type, restriction, public, purpose in DEMO_FUNDS:
        values = {"code": code, "name": name, "fund_type": fund_type, "restriction": restriction,
                  "is_public": public, "purpose": purpose}
        funds[code] = create_fund(session, values, actor)
    return funds


def _close_months(session: Session, first: tuple[int, int], last: tuple[int, int], actor: Any, today: dt.date) -> int:
    """Close `first` (the first close may pick any month), then every month through `last`."""
    closed = [close_period(session, *first, actor, today=today)]
    if last > first:
        closed += close_through(session, *last, actor, today=today)
    return len(closed)


def load_demo(session: Session, today: dt.date | None = None, password: str = DEMO_PASSWORD) -> str:
    """Create the demo foundation and its books; flush only (the caller commits). Returns a summary."""
    today = today or dt.date.today()
    seed_chart(session)
    users = _create_users(session, password)
    funds = _create_funds(session, users["admin"])
    books = DemoBooks(session, funds, users, seed=DEMO_SEED)
    first_month = months_back(today, MONTHS)
    for offset in range(MONTHS):
        books.run_month(months_back(today, MONTHS - offset))
    giving = f"{load_donations(session, today, funds, users)}; {load_enterprises(session, today, funds, users)}"
    closed = _close_months(session, first_month, months_back(today, 2), users["finance"], today)
    return (f"{FOUNDATION_NAME}: {len(users)} users, {len(funds)} funds, {books.posted} entries "
            f"({books.reversals} reversals) from {first_month[0]}-{first_month[1]:02d}, {closed} months closed; "
            f"{giving}")
