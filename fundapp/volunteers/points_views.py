"""Blueprint `points` at /points: the rewards catalogue, redemptions at the counter, gifts of points, and the point
ledger (accounts, entries, reversals, the verify check, expiry). Admin and finance manage; running the expiry rule
is for admin.

Views are thin: parse the form, call one service in fundapp/volunteers (which writes the audit event), commit or
roll back and show the message. Redemptions and gifts carry an idempotency key made when the form was first shown
and pass through a confirm page; submitting twice records once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import contains_eager, joinedload
from wtforms.fields.choices import SelectChoice

from fundapp import csvexport
from fundapp.auth.decorators import roles_required
from fundapp.dates import local_today
from fundapp.donations.models import Donation, DonationMethod, DonationStatus
from fundapp.extensions import db
from fundapp.forms import KeyedForm, new_key
from fundapp.volunteers import manage
from fundapp.volunteers.exchange import redeem as redeem_reward
from fundapp.volunteers.models import (
    HOLDER_KINDS,
    PointAccount,
    PointAccountKind,
    PointEntry,
    PointEntryKind,
    PointLine,
    Redemption,
    Reward,
    ServiceRecord,
    Volunteer,
)
from fundapp.volunteers.points import (
    add_months,
    expirable,
    expire_points,
    expiry_months,
    gift_points,
    person_account,
    reverse_points,
    verify_points,
)
from fundapp.volunteers.points_forms import (
    ACCOUNT_KIND_LABELS,
    ENTRY_KIND_LABELS,
    KIND_LABELS,
    AccountFilterForm,
    ExpiryForm,
    GiftForm,
    HolderSearchForm,
    RedeemForm,
    RedemptionFilterForm,
    ReverseForm,
    RewardFilterForm,
    RewardForm,
)
from fundapp.volunteers.views import export_args, paginate, statement_page
from fundapp.web import form_service, row_id

bp = Blueprint("points", __name__, url_prefix="/points")
MANAGERS = ("admin", "finance")
EXPIRY_RUNNERS = ("admin",)
CHOICE_LIMIT = 200


def _system_balance(kind: PointAccountKind) -> Decimal:
    total = db.session.scalar(select(func.sum(PointAccount.balance)).where(PointAccount.kind == kind.value))
    return Decimal(total or 0).quantize(Decimal("0.01"))


def _labels() -> dict:
    return {"kind_labels": KIND_LABELS, "account_kind_labels": ACCOUNT_KIND_LABELS,
            "entry_kind_labels": ENTRY_KIND_LABELS}


# --- overview -------------------------------------------------------------------------------------------------


@bp.get("/")
@roles_required(*MANAGERS)
def index():
    held = db.session.scalar(select(func.sum(PointAccount.balance)).where(PointAccount.kind.in_(HOLDER_KINDS)))
    totals = {
        "issued": -_system_balance(PointAccountKind.issuance),
        "held": Decimal(held or 0).quantize(Decimal("0.01")),
        "redeemed": _system_balance(PointAccountKind.redemption),
        "expired": _system_balance(PointAccountKind.expiry),
    }
    recent = db.session.scalars(select(PointEntry).options(joinedload(PointEntry.lines).joinedload(PointLine.account))
                                .order_by(PointEntry.id.desc()).limit(10)).unique().all()
    return render_template("points/index.html", totals=totals, recent=recent, **_labels())


# --- the catalogue --------------------------------------------------------------------------------------------


def _reward_rows() -> tuple[RewardFilterForm, object]:
    form = RewardFilterForm(formdata=request.args)
    form.validate()
    stmt = select(Reward).order_by(Reward.name, Reward.id)
    if form.status.data == "active":
        stmt = stmt.where(Reward.is_active.is_(True))
    elif form.status.data == "inactive":
        stmt = stmt.where(Reward.is_active.is_(False))
    if form.q.data and not form.q.errors:
        like = f"%{form.q.data}%"
        stmt = stmt.where(or_(Reward.name.ilike(like), Reward.donor_label.ilike(like)))
    return form, stmt


def _fund_codes() -> dict[int, str]:
    from fundapp.ledger.models import Fund

    return dict(db.session.execute(select(Fund.id, Fund.code)).all())


@bp.get("/rewards")
@roles_required(*MANAGERS)
def rewards():
    form, stmt = _reward_rows()
    page = paginate(stmt)
    filtered = bool(form.q.data) or form.status.data != "active"
    return render_template("points/rewards.html", form=form, page=page, filtered=filtered, funds=_fund_codes(),
                           export_args=export_args(), **_labels())


@bp.get("/rewards.csv")
@roles_required(*MANAGERS)
def rewards_csv():
    _form, stmt = _reward_rows()
    funds = _fund_codes()
    header = [_("Name"), _("Kind"), _("Points"), _("Stock"), _("Given by"), _("Fund"), _("Unit value"),
              _("Donation"), _("Offered")]

    def lines() -> Iterator[str]:
        yield csvexport.line(header)
        for reward in db.session.scalars(stmt):
            yield csvexport.line([reward.name, KIND_LABELS.get(reward.kind, reward.kind), reward.points, reward.stock,
                                  reward.donor_label, funds.get(reward.fund_id, ""), reward.unit_value or "",
                                  reward.donation_id or "", _("yes") if reward.is_active else _("no")])

    return csvexport.response(lines(), f"rewards-{local_today().isoformat()}.csv")


def _public_name(donation: Donation) -> str:
    if donation.donor is None or donation.donor.anonymous_in_public:
        return _("Anonymous donor")
    return donation.donor.name


def _in_kind_donation(donation_id: object) -> Donation | None:
    key = row_id(donation_id)
    donation = db.session.get(Donation, key) if key is not None else None
    if donation is None or donation.method != DonationMethod.in_kind.value:
        return None
    return donation


@bp.get("/rewards/from-donation")
@roles_required(*MANAGERS)
def in_kind_donations():
    stmt = (select(Donation).where(Donation.method == DonationMethod.in_kind.value,
                                   Donation.status != DonationStatus.reversed.value)
            .order_by(Donation.received_on.desc(), Donation.id.desc()))
    page = paginate(stmt)
    rows = []
    for donation in page.items:
        claimed = manage.claimed_value(db.session, donation.id)
        rows.append((donation, claimed, donation.amount - claimed, _public_name(donation)))
    return render_template("points/in_kind.html", page=page, rows=rows)


def _reward_input(form: RewardForm) -> manage.RewardInput | None:
    valid = form.validate()
    donation_id = None
    if form.donation_id.data:
        donation_id = row_id(form.donation_id.data)
        if donation_id is None:
            form.form_errors.append(_("Choose an in-kind donation."))
            return None
    if not valid:
        form.form_errors.append(_("Correct the marked fields; nothing was saved."))
        return None
    return manage.RewardInput(name=form.name.data, kind=form.kind.data, points=form.points.data,
                              stock=form.stock.data, donor_label=form.donor_label.data or "",
                              donation_id=donation_id, unit_value=form.unit_value.data or None,
                              is_active=bool(form.is_active.data))


@bp.route("/rewards/new", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def reward_new():
    form = RewardForm()
    donation = None
    if not form.is_submitted():
        donation_arg = request.args.get("donation_id")
        if donation_arg:
            donation = _in_kind_donation(donation_arg)
            if donation is None or donation.is_reversed:
                abort(404)
            form.donation_id.data = str(donation.id)
            form.name.data = donation.item_description[:200]
            form.donor_label.data = _public_name(donation)[:200]
            form.kind.data = "goods"
    else:
        donation = _in_kind_donation(form.donation_id.data) if form.donation_id.data else None
        data = _reward_input(form)
        if data is not None:
            with form_service(form) as done:
                reward = manage.create_reward(db.session, data, current_user)
            if done.ok:
                flash(_("Reward added to the catalogue."), "success")
                return redirect(url_for("points.rewards", status="all", q=reward.name))
    unclaimed = None
    if donation is not None:
        unclaimed = donation.amount - manage.claimed_value(db.session, donation.id)
    return render_template("points/reward_form.html", form=form, reward=None, donation=donation,
                           unclaimed=unclaimed)


@bp.route("/rewards/<int:reward_id>/edit", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def reward_edit(reward_id: int):
    reward = db.get_or_404(Reward, reward_id)
    form = RewardForm(obj=None)
    if not form.is_submitted():
        for name in ("name", "kind", "stock", "donor_label", "is_active"):
            getattr(form, name).data = getattr(reward, name)
        form.points.data = str(reward.points)
        form.unit_value.data = "" if reward.unit_value is None else str(reward.unit_value)
        form.donation_id.data = "" if reward.donation_id is None else str(reward.donation_id)
    else:
        data = _reward_input(form)
        if data is not None:
            with form_service(form) as done:
                manage.update_reward(db.session, reward, data, current_user)
            if done.ok:
                flash(_("Reward saved."), "success")
                return redirect(url_for("points.rewards", status="all", q=reward.name))
    donation = db.session.get(Donation, reward.donation_id) if reward.donation_id else None
    unclaimed = None
    if donation is not None:
        unclaimed = donation.amount - manage.claimed_value(db.session, donation.id, excluding=reward.id)
    return render_template("points/reward_form.html", form=form, reward=reward, donation=donation,
                           unclaimed=unclaimed)


# --- holders --------------------------------------------------------------------------------------------------


def _holders(text: str | None, include: tuple[int, ...] = ()) -> list[PointAccount]:
    stmt = (select(PointAccount).outerjoin(Volunteer, Volunteer.id == PointAccount.volunteer_id)
            .options(joinedload(PointAccount.volunteer)).where(PointAccount.kind.in_(HOLDER_KINDS))
            .order_by(func.coalesce(Volunteer.name, PointAccount.holder_name), PointAccount.id))
    if text:
        like = f"%{text}%"
        stmt = stmt.where(or_(Volunteer.name.ilike(like), PointAccount.holder_name.ilike(like)))
    accounts = list(db.session.scalars(stmt.limit(CHOICE_LIMIT)))
    known = {a.id for a in accounts}
    for account_id in include:
        account = db.session.get(PointAccount, account_id)
        if account is not None and account.is_holder and account.id not in known:
            accounts.append(account)
    return accounts


def _holder_choices(accounts: list[PointAccount], blank: str) -> list[SelectChoice]:
    kinds = {"volunteer": _("volunteer"), "person": _("person")}
    return [SelectChoice("", blank)] + [
        SelectChoice(str(a.id), f"{a.label} · {kinds.get(a.kind, a.kind)} · {a.balance}") for a in accounts]


def _holder(value: object) -> PointAccount | None:
    key = row_id(value)
    account = db.session.get(PointAccount, key) if key is not None else None
    return account if account is not None and account.is_holder else None


def _counter_forms(form_class: type[KeyedForm], *prefilled: str) -> tuple[HolderSearchForm, KeyedForm]:
    """The holder search (from the query string) and the keyed counter form; on first display the form gets its
    idempotency key and the `prefilled` fields their values from the query string."""
    search = HolderSearchForm(formdata=request.args)
    search.validate()
    form = form_class()
    if not form.is_submitted():
        form.key.data = new_key()
        for name in prefilled:
            getattr(form, name).data = request.args.get(name, "")
    return search, form


def _searched_holders(search: HolderSearchForm, *chosen: object) -> list[PointAccount]:
    """The holders matching the search, plus the accounts already chosen on the form (so they stay selectable)."""
    selected = tuple(i for i in map(row_id, chosen) if i)
    return _holders(search.q.data if not search.q.errors else None, selected)


def _shortfall(holder: PointAccount, needed: Decimal) -> list[str]:
    if holder.balance < needed:
        return [_("%(holder)s holds %(held)s points; %(needed)s are needed.",
                  holder=holder.label, held=holder.balance, needed=needed)]
    return []


# --- redeem at the counter ------------------------------------------------------------------------------------


@bp.route("/redeem", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def redeem():
    search, form = _counter_forms(RedeemForm, "account", "reward")
    form.account.choices = _holder_choices(_searched_holders(search, form.account.data), _("Choose a holder"))
    offered = db.session.scalars(select(Reward).where(Reward.is_active.is_(True)).order_by(Reward.name)).all()
    form.reward.choices = [SelectChoice("", _("Choose a reward"))] + [
        SelectChoice(str(r.id), _("%(name)s · %(points)s points · %(stock)d left", name=r.name, points=r.points,
                                  stock=r.stock)) for r in offered]
    if form.is_submitted() and form.ensure_key():
        account, reward = _holder(form.account.data), None
        reward_id = row_id(form.reward.data)
        if reward_id:
            reward = db.session.get(Reward, reward_id)
        valid = form.validate()
        if account is None:
            form.account.errors = [*form.account.errors, _("Choose a holder.")]
        if reward is None:
            form.reward.errors = [*form.reward.errors, _("Choose a reward.")]
        if valid and account is not None and reward is not None:
            quantity = form.quantity.data
            already = db.session.scalar(select(Redemption).where(Redemption.key == form.key.data))
            if form.confirmed.data == "1" or already is not None:
                with form_service(form) as done:
                    redemption = redeem_reward(db.session, account, reward, quantity, key=form.key.data,
                                               actor=current_user)
                if done.ok:
                    if already is not None:
                        flash(_("This redemption was already made; it was not made again."), "info")
                    else:
                        flash(_("Redeemed: %(name)s x%(n)d.", name=reward.name, n=quantity), "success")
                    return redirect(url_for("points.account", point_account_id=redemption.account_id))
            else:
                cost = (reward.points * quantity).quantize(Decimal("0.01"))
                problems = []
                if not reward.is_active:
                    problems.append(_("This reward is no longer offered."))
                if reward.stock < quantity:
                    problems.append(_("Only %(stock)d left of %(name)s.", stock=reward.stock, name=reward.name))
                problems += _shortfall(account, cost)
                form.confirmed.data = "1"
                return render_template("points/redeem_confirm.html", form=form, account=account, reward=reward,
                                       quantity=quantity, cost=cost, after=account.balance - cost,
                                       problems=problems)
        elif not form.form_errors:
            form.form_errors.append(_("Correct the marked fields; nothing was redeemed."))
    return render_template("points/redeem.html", form=form, search=search)


def _redemption_rows() -> tuple[RedemptionFilterForm, object]:
    form = RedemptionFilterForm(formdata=request.args)
    all_rewards = db.session.scalars(select(Reward).order_by(Reward.name)).all()
    form.reward.choices = [SelectChoice("", _("All rewards"))] + [SelectChoice(str(r.id), r.name)
                                                                  for r in all_rewards]
    form.validate()
    stmt = (select(Redemption).options(joinedload(Redemption.reward), joinedload(Redemption.account)
                                       .joinedload(PointAccount.volunteer))
            .join(PointEntry, PointEntry.id == Redemption.point_entry_id)
            .order_by(Redemption.id.desc()))
    reward_id = row_id(form.reward.data)
    if reward_id:
        stmt = stmt.where(Redemption.reward_id == reward_id)
    if form.start.data and not form.start.errors:
        stmt = stmt.where(PointEntry.effective_date >= form.start.data)
    if form.end.data and not form.end.errors:
        stmt = stmt.where(PointEntry.effective_date <= form.end.data)
    return form, stmt


@bp.get("/redemptions")
@roles_required(*MANAGERS)
def redemptions():
    form, stmt = _redemption_rows()
    page = paginate(stmt)
    filtered = any(request.args.get(k) for k in ("reward", "start", "end"))
    dates = dict(db.session.execute(select(PointEntry.id, PointEntry.effective_date).where(
        PointEntry.id.in_([r.point_entry_id for r in page.items]))).all()) if page.items else {}
    return render_template("points/redemptions.html", form=form, page=page, filtered=filtered, dates=dates,
                           export_args=export_args())


@bp.get("/redemptions.csv")
@roles_required(*MANAGERS)
def redemptions_csv():
    _form, stmt = _redemption_rows()
    header = [_("Date"), _("Holder"), _("Reward"), _("Quantity"), _("Points"), _("Book value entry")]
    rows = db.session.execute(stmt.add_columns(PointEntry.effective_date)).unique().all()

    def lines() -> Iterator[str]:
        yield csvexport.line(header)
        for redemption, day in rows:
            yield csvexport.line([day.isoformat(), redemption.account.label, redemption.reward.name,
                                  redemption.quantity, redemption.points, redemption.journal_entry_id or ""])

    return csvexport.response(lines(), f"redemptions-{local_today().isoformat()}.csv")


# --- gifts ----------------------------------------------------------------------------------------------------


def _points(value: str | None) -> Decimal | None:
    try:
        number = Decimal((value or "").strip())
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite() or number <= 0 or number != number.quantize(Decimal("0.01")):
        return None
    return number.quantize(Decimal("0.01"))


@bp.route("/gift", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def gift():
    search, form = _counter_forms(GiftForm, "giver")
    holders = _searched_holders(search, form.giver.data, form.receiver.data)
    form.giver.choices = _holder_choices(holders, _("Choose who gives"))
    form.receiver.choices = _holder_choices(holders, _("A new person (name below)"))
    if form.is_submitted() and form.ensure_key():
        valid = form.validate()
        giver = _holder(form.giver.data)
        receiver = _holder(form.receiver.data) if form.receiver.data else None
        points = _points(form.points.data)
        if giver is None:
            form.giver.errors = [*form.giver.errors, _("Choose who gives.")]
        if form.receiver.data and receiver is None:
            form.receiver.errors = [*form.receiver.errors, _("Choose who receives.")]
        if receiver is None and not form.new_person.data:
            form.new_person.errors = [*form.new_person.errors,
                                      _("Choose who receives, or give the name of a new person.")]
        if receiver is not None and giver is not None and receiver.id == giver.id:
            form.receiver.errors = [*form.receiver.errors, _("Points cannot be given to the same account.")]
        if form.points.data and points is None:
            form.points.errors = [*form.points.errors, _("Give a positive number of points, at most two decimals.")]
        ok = valid and giver is not None and points is not None and (receiver is not None or form.new_person.data) \
            and not form.receiver.errors
        if ok:
            key = f"gift:{form.key.data}"
            already = db.session.scalar(select(PointEntry).where(PointEntry.idempotency_key == key))
            if already is not None:
                flash(_("These points were already given; they were not given again."), "info")
                return redirect(url_for("points.entry", point_entry_id=already.id))
            if form.confirmed.data == "1":
                with form_service(form) as done:
                    target = receiver if receiver is not None else person_account(db.session, form.new_person.data)
                    entry = gift_points(db.session, giver, target, points, key=key, memo=form.memo.data or "",
                                        actor=current_user)
                if done.ok:
                    flash(_("%(points)s points given.", points=points), "success")
                    return redirect(url_for("points.entry", point_entry_id=entry.id))
            else:
                problems = _shortfall(giver, points)
                form.confirmed.data = "1"
                return render_template("points/gift_confirm.html", form=form, giver=giver, receiver=receiver,
                                       points=points, problems=problems)
        elif not form.form_errors:
            form.form_errors.append(_("Correct the marked fields; nothing was given."))
    return render_template("points/gift.html", form=form, search=search)


# --- accounts and entries -------------------------------------------------------------------------------------


def _account_rows() -> tuple[AccountFilterForm, object]:
    form = AccountFilterForm(formdata=request.args)
    form.validate()
    stmt = (select(PointAccount).outerjoin(Volunteer, Volunteer.id == PointAccount.volunteer_id)
            .options(joinedload(PointAccount.volunteer))
            .order_by(case((PointAccount.kind.in_(HOLDER_KINDS), 0), else_=1), PointAccount.kind,
                      func.coalesce(Volunteer.name, PointAccount.holder_name),
                      PointAccount.id))
    if form.kind.data:
        stmt = stmt.where(PointAccount.kind == form.kind.data)
    if form.q.data and not form.q.errors:
        like = f"%{form.q.data}%"
        stmt = stmt.where(or_(Volunteer.name.ilike(like), PointAccount.holder_name.ilike(like)))
    return form, stmt


@bp.get("/accounts")
@roles_required(*MANAGERS)
def accounts():
    form, stmt = _account_rows()
    page = paginate(stmt)
    filtered = bool(form.q.data or form.kind.data)
    return render_template("points/accounts.html", form=form, page=page, filtered=filtered,
                           export_args=export_args(), **_labels())


@bp.get("/accounts.csv")
@roles_required(*MANAGERS)
def accounts_csv():
    _form, stmt = _account_rows()
    header = [_("Account"), _("Holder"), _("Kind"), _("Balance")]

    def lines() -> Iterator[str]:
        yield csvexport.line(header)
        for account in db.session.scalars(stmt).unique():
            yield csvexport.line([account.id, account.label, ACCOUNT_KIND_LABELS.get(account.kind, account.kind),
                                  account.balance])

    return csvexport.response(lines(), f"point-accounts-{local_today().isoformat()}.csv")


@bp.get("/accounts/<int:point_account_id>")
@roles_required(*MANAGERS)
def account(point_account_id: int):
    """The account's statement, newest first, with the balance after each line (from the lines themselves)."""
    account = db.get_or_404(PointAccount, point_account_id)
    stmt = (select(PointLine).join(PointEntry, PointEntry.id == PointLine.entry_id)
            .where(PointLine.account_id == account.id).options(contains_eager(PointLine.entry)))
    page, rows = statement_page(account, stmt, (PointLine.entry_id.desc(), PointLine.id.desc()))
    statement = [(line.entry, line.amount, running) for line, running in rows]
    return render_template("points/account.html", account=account, statement=statement, page=page, **_labels())


@bp.get("/entries/<int:point_entry_id>")
@roles_required(*MANAGERS)
def entry(point_entry_id: int):
    entry = db.get_or_404(PointEntry, point_entry_id)
    reversed_by = db.session.scalar(select(PointEntry).where(PointEntry.reverses_id == entry.id))
    redemption = db.session.scalar(select(Redemption).where(Redemption.point_entry_id == entry.id))
    blocked, record = _why_not_reversed(entry)
    return render_template("points/entry.html", entry=entry, reversed_by=reversed_by, redemption=redemption,
                           blocked=blocked, record=record, **_labels())


def _why_not_reversed(entry: PointEntry) -> tuple[str | None, ServiceRecord | None]:
    """Why this page will not reverse `entry` (None: it may), and the service record whose hours it credited.
    Credited hours are corrected on their record (so the record says reversed too), and a redemption's goods
    and book entry would not come back with its points."""
    if entry.kind == PointEntryKind.reversal.value:
        return _("A reversal is not reversed; post the movement again instead."), None
    record = db.session.scalar(select(ServiceRecord).where(ServiceRecord.point_entry_id == entry.id))
    if record is not None:
        return _("These points were credited for verified hours: correct the hours instead, so that the "
                 "service record is reversed with its points."), record
    if db.session.scalar(select(Redemption.id).where(Redemption.point_entry_id == entry.id)) is not None:
        return _("A redemption is not reversed here: the reward's stock and the goods' book entry would stay "
                 "as they are."), None
    return None, None


@bp.route("/entries/<int:point_entry_id>/reverse", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def reverse(point_entry_id: int):
    entry = db.get_or_404(PointEntry, point_entry_id)
    reversed_by = db.session.scalar(select(PointEntry).where(PointEntry.reverses_id == entry.id))
    form = ReverseForm()
    blocked, record = _why_not_reversed(entry)
    if not form.is_submitted():
        form.key.data = new_key()
    elif not blocked and form.ensure_key():
        key = f"reversal:{form.key.data}"
        if reversed_by is not None and reversed_by.idempotency_key == key:
            flash(_("This movement was already reversed."), "info")
            return redirect(url_for("points.entry", point_entry_id=reversed_by.id))
        if form.validate():
            with form_service(form) as done:
                reversal = reverse_points(db.session, entry, form.reason.data, actor=current_user, key=key)
            if done.ok:
                flash(_("The movement was reversed."), "success")
                return redirect(url_for("points.entry", point_entry_id=reversal.id))
    return render_template("points/reverse.html", entry=entry, form=form, reversed_by=reversed_by,
                           blocked=blocked, record=record, **_labels())


# --- checks ---------------------------------------------------------------------------------------------------


@bp.get("/check")
@roles_required(*MANAGERS)
def check():
    return render_template("points/check.html", problems=verify_points(db.session))


def _expiry_preview(months: int, today: dt.date) -> tuple[dt.date, list[tuple[PointAccount, Decimal]]]:
    cutoff = add_months(today, -months)
    holders = db.session.scalars(select(PointAccount).options(joinedload(PointAccount.volunteer))
                                 .where(PointAccount.kind.in_(HOLDER_KINDS), PointAccount.balance > 0)
                                 .order_by(PointAccount.id)).all()
    rows = []
    for holder in holders:
        amount = min(expirable(db.session, holder, cutoff), holder.balance)
        if amount > 0:
            rows.append((holder, amount))
    return cutoff, rows


@bp.route("/expiry", methods=["GET", "POST"])
@roles_required(*EXPIRY_RUNNERS)
def expiry():
    months = expiry_months()
    form = ExpiryForm()
    today = local_today()
    if months is not None and form.is_submitted() and form.validate():
        with form_service(form) as done:
            entries = expire_points(db.session, today, actor=current_user)
        if done.ok:
            flash(_("%(n)d accounts had points lapse.", n=len(entries)), "success")
            return redirect(url_for("points.expiry"))
    cutoff, rows = _expiry_preview(months, today) if months is not None else (None, [])
    total = sum((amount for _account, amount in rows), Decimal("0.00"))
    return render_template("points/expiry.html", form=form, months=months, cutoff=cutoff, rows=rows, total=total,
                           today=today)
