"""Funds: create and update. A fund's code is frozen once it has posted lines (the hash chain uses it)."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from fundapp.audit.services import AuditTag, record_event, snapshot
from fundapp.errors import DomainError
from fundapp.ledger.models import Account, AccountType, Fund, FundStatus, FundType, JournalLine, NetAssetClass

FUND_FIELDS = ("code", "name", "fund_type", "restriction", "purpose", "status", "is_public")
TYPE_VALUES = {t.value for t in FundType}
RESTRICTION_VALUES = {c.value for c in NetAssetClass}
STATUS_VALUES = {s.value for s in FundStatus}


class FundError(DomainError):
    pass


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    out = {k: values[k] for k in FUND_FIELDS if k in values}
    for key in ("code", "name", "purpose"):
        if key in out and isinstance(out[key], str):
            out[key] = out[key].strip()
    if "code" in out:
        out["code"] = out["code"].upper()
    return out


def _validate(session: Session, values: dict[str, Any], fund: Fund | None) -> None:
    code = values.get("code", "")
    if not code or len(code) > 20 or not all(ch.isalnum() or ch in "-_" for ch in code):
        raise FundError(_("A fund code is 1 to 20 letters, digits, '-' or '_'."))
    if not values.get("name"):
        raise FundError(_("A fund needs a name."))
    if values.get("fund_type") not in TYPE_VALUES:
        raise FundError(_("Choose a fund type."))
    if values.get("restriction", NetAssetClass.unrestricted.value) not in RESTRICTION_VALUES:
        raise FundError(_("Choose restricted or unrestricted."))
    if values.get("status", FundStatus.active.value) not in STATUS_VALUES:
        raise FundError(_("Choose a fund status."))
    clash = session.scalar(select(Fund).where(Fund.code == code))
    if clash is not None and clash is not fund:
        raise FundError(_("Fund code %(code)s is already used.", code=code))


def create_fund(session: Session, values: dict[str, Any], actor: Any | None) -> Fund:
    values = _clean(values)
    _validate(session, values, None)
    fund = Fund(**values)
    session.add(fund)
    session.flush()
    record_event(session, AuditTag.fund_created, actor, "fund", fund.id, after=snapshot(fund, FUND_FIELDS))
    return fund


def fund_has_lines(session: Session, fund: Fund) -> bool:
    return bool(session.scalar(select(exists().where(JournalLine.fund_id == fund.id))))


def _check_frozen(session: Session, fund: Fund, values: dict[str, Any]) -> None:
    """Once a fund has lines its code (hashed in the chain) and restriction (classifies them) are fixed, and it
    can only close when it holds nothing."""
    has_lines = fund_has_lines(session, fund)
    if values.get("code", fund.code) != fund.code and has_lines:
        raise FundError(_("This fund has posted lines: its code can no longer change."))
    if values.get("restriction", fund.restriction) != fund.restriction and has_lines:
        raise FundError(_("This fund has posted lines: its restriction can no longer change."))
    closing = values.get("status") == FundStatus.closed.value and fund.status != FundStatus.closed.value
    if closing and has_lines and fund_holdings(session, fund):
        raise FundError(_("This fund still holds assets or owes liabilities; settle them before closing it."))


def fund_holdings(session: Session, fund: Fund) -> dict:
    """Non-zero asset and liability balances of the fund today."""
    from fundapp.dates import local_today
    from fundapp.ledger.queries import balances_as_of

    accounts = select(Account.id).where(Account.type.in_([AccountType.asset.value, AccountType.liability.value]))
    return balances_as_of(session, local_today(), fund_ids=[fund.id], account_ids=session.scalars(accounts).all())


def update_fund(session: Session, fund: Fund, values: dict[str, Any], actor: Any | None) -> Fund:
    values = _clean(values)
    merged = snapshot(fund, FUND_FIELDS) | values
    _validate(session, merged, fund)
    _check_frozen(session, fund, values)
    before = snapshot(fund, FUND_FIELDS)
    for key, value in values.items():
        setattr(fund, key, value)
    session.flush()
    record_event(session, AuditTag.fund_updated, actor, "fund", fund.id, before=before, after=snapshot(fund, FUND_FIELDS))
    return fund
