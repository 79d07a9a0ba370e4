"""The chart of accounts: the default 民间非营利组织会计制度 accounts and account services."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from fundapp.audit.services import AuditTag, record_event, snapshot
from fundapp.ledger.models import Account, AccountType, JournalLine
from fundapp.ledger.services import LedgerError

# code, name, English name, type, contra
DEFAULT_CHART: tuple[tuple[str, str, str, str, bool], ...] = (
    ("1001", "现金", "Cash", "asset", False),
    ("1002", "银行存款", "Bank deposits", "asset", False),
    ("1009", "其他货币资金", "Other monetary funds", "asset", False),
    ("1121", "应收账款", "Accounts receivable", "asset", False),
    ("1122", "其他应收款", "Other receivables", "asset", False),
    ("1201", "存货", "Inventory", "asset", False),
    ("1401", "长期股权投资", "Long-term equity investments", "asset", False),
    ("1402", "长期债权投资", "Long-term bond investments", "asset", False),
    ("1501", "固定资产", "Fixed assets", "asset", False),
    ("1502", "累计折旧", "Accumulated depreciation", "asset", True),
    ("2202", "应付账款", "Accounts payable", "liability", False),
    ("2203", "预收账款", "Receipts in advance", "liability", False),
    ("2209", "其他应付款", "Other payables", "liability", False),
    ("3101", "非限定性净资产", "Unrestricted net assets", "net_assets", False),
    ("3102", "限定性净资产", "Restricted net assets", "net_assets", False),
    ("4101", "捐赠收入", "Donation income", "revenue", False),
    ("4201", "会费收入", "Membership dues", "revenue", False),
    ("4301", "提供服务收入", "Service income", "revenue", False),
    ("4401", "政府补助收入", "Government subsidies", "revenue", False),
    ("4501", "商品销售收入", "Sales income", "revenue", False),
    ("4601", "投资收益", "Investment income", "revenue", False),
    ("4901", "其他收入", "Other income", "revenue", False),
    ("5101", "业务活动成本", "Programme costs", "expense", False),
    ("5201", "管理费用", "Administrative expenses", "expense", False),
    ("5301", "筹资费用", "Fundraising costs", "expense", False),
    ("5401", "其他费用", "Other expenses", "expense", False),
)

ACCOUNT_FIELDS = ("code", "name", "name_en", "type", "is_contra", "is_active", "description")
TYPE_VALUES = {t.value for t in AccountType}


def seed_chart(session: Session) -> int:
    """Insert the default accounts that are missing. Returns how many were added."""
    present = set(session.scalars(select(Account.code)))
    added = 0
    for code, name, name_en, type_, contra in DEFAULT_CHART:
        if code not in present:
            session.add(Account(code=code, name=name, name_en=name_en, type=type_, is_contra=contra))
            added += 1
    session.flush()
    return added


def account_has_lines(session: Session, account: Account) -> bool:
    return bool(session.scalar(select(exists().where(JournalLine.account_id == account.id))))


def _validate(session: Session, values: dict[str, Any], account: Account | None) -> None:
    code = (values.get("code") or "").strip()
    if not code or not code.isalnum() or len(code) > 20:
        raise LedgerError(_("An account code is 1 to 20 letters or digits."))
    if not (values.get("name") or "").strip():
        raise LedgerError(_("An account needs a name."))
    if values.get("type") not in TYPE_VALUES:
        raise LedgerError(_("Choose an account type."))
    clash = session.scalar(select(Account).where(Account.code == code))
    if clash is not None and clash is not account:
        raise LedgerError(_("Account code %(code)s is already used.", code=code))


def create_account(session: Session, values: dict[str, Any], actor: Any | None) -> Account:
    _validate(session, values, None)
    account = Account(**{k: values[k] for k in ACCOUNT_FIELDS if k in values})
    account.code = account.code.strip()
    session.add(account)
    session.flush()
    record_event(session, AuditTag.account_created, actor, "account", account.id, after=snapshot(account, ACCOUNT_FIELDS))
    return account


def update_account(session: Session, account: Account, values: dict[str, Any], actor: Any | None) -> Account:
    _validate(session, values, account)
    before = snapshot(account, ACCOUNT_FIELDS)
    if account_has_lines(session, account):
        # Posted lines are hashed with the code and classified by the type: both are frozen once used.
        if values["code"].strip() != account.code or values["type"] != account.type:
            raise LedgerError(_("This account has posted lines: its code and type can no longer change."))
    for key in ACCOUNT_FIELDS:
        if key in values:
            setattr(account, key, values[key].strip() if isinstance(values[key], str) else values[key])
    session.flush()
    record_event(session, AuditTag.account_updated, actor, "account", account.id, before=before,
                 after=snapshot(account, ACCOUNT_FIELDS))
    return account
