"""Ledger pages for finance staff: journal, entries, posting and reversing, trial balance, accounts, periods.

Views are thin: parse the form, call one service, commit or roll back, flash, redirect. Finance does
everything here; admin and board read; only finance posts, reverses and closes; finance or admin keep the chart.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased

from fundapp import csvexport
from fundapp.auth.decorators import roles_required
from fundapp.auth.models import User
from fundapp.dates import local_today
from fundapp.errors import DomainError
from fundapp.extensions import db
from fundapp.ledger import queries
from fundapp.ledger.chart import account_has_lines, create_account, update_account
from fundapp.ledger.export import FORMATS, ExportError, iter_export
from fundapp.ledger.forms import (
    ACCOUNT_TYPE_LABELS,
    AccountForm,
    ClosePeriodForm,
    EntryForm,
    JournalFilterForm,
    ReleaseDateForm,
    ReleaseForm,
    ReverseForm,
    TrialBalanceForm,
    YearCloseForm,
    account_choices,
    fund_choices,
    new_idempotency_key,
    valid_idempotency_key,
)
from fundapp.ledger.models import Account, Fund, FundStatus, JournalEntry, JournalLine, Period
from fundapp.ledger.periods import close_through, month_end, next_closable, next_month
from fundapp.ledger.release import default_through, latest_release, plan_release, release_restrictions
from fundapp.ledger.services import IdempotencyConflict, lock_date, post_entry, reverse_entry
from fundapp.ledger.sources import corrected_at_source, source_label
from fundapp.ledger.yearend import close_year, plan_close, years_overview
from fundapp.web import form_service

bp = Blueprint("ledger", __name__, url_prefix="/ledger")

READERS = ("finance", "admin", "board")
CHART_KEEPERS = ("finance", "admin")
CSV_BATCH = 1000
FIRST_CLOSE_MONTHS = 24  # months offered when no month was ever closed
EXPORT_SUFFIXES = {"beancount": "beancount", "hledger": "journal"}


# --- shared helpers -------------------------------------------------------------------------------------------


def _accounts(active_only: bool = False) -> list[Account]:
    stmt = select(Account).order_by(Account.code)
    return list(db.session.scalars(stmt.where(Account.is_active) if active_only else stmt))


def _funds(active_only: bool = False) -> list[Fund]:
    stmt = select(Fund).order_by(Fund.code)
    return list(db.session.scalars(stmt.where(Fund.status == FundStatus.active.value) if active_only else stmt))


def _by_id(items: Iterable) -> dict[str, object]:
    return {str(item.id): item for item in items}


def _today() -> dt.date:
    return local_today()


def _debit_credit(amount) -> tuple[str, str]:
    return (str(amount), "") if amount > 0 else ("", str(-amount))


# --- journal --------------------------------------------------------------------------------------------------


def _journal_filters() -> tuple[JournalFilterForm, dict]:
    form = JournalFilterForm(formdata=request.args)
    funds, accounts = _funds(), _accounts()
    form.fund.choices = fund_choices(funds, _("All funds"))
    form.account.choices = account_choices(accounts, _("All accounts"))
    form.validate()
    fund, account = _by_id(funds).get(form.fund.data or ""), _by_id(accounts).get(form.account.data or "")
    filters = {
        "date_from": form.date_from.data,
        "date_to": form.date_to.data,
        "fund_id": fund.id if fund else None,
        "account_id": account.id if account else None,
        "text": form.q.data if form.q.data and not form.q.errors else None,
    }
    return form, filters


def _reversal_links(entries: list[JournalEntry]) -> dict[int, tuple[str, int, int]]:
    """For each entry on the page: ("reversed_by" | "reversal_of", other entry id, other seq), in one query."""
    ids = {entry.id for entry in entries}
    reversed_ids = {entry.reverses_id for entry in entries if entry.reverses_id}
    if not ids:
        return {}
    rows = db.session.execute(
        select(JournalEntry.id, JournalEntry.seq, JournalEntry.reverses_id).where(
            or_(JournalEntry.reverses_id.in_(ids), JournalEntry.id.in_(reversed_ids))
        )
    ).all()
    seq_of = {row.id: row.seq for row in rows}
    links = {row.reverses_id: ("reversed_by", row.id, row.seq) for row in rows if row.reverses_id in ids}
    for entry in entries:
        if entry.reverses_id in seq_of:
            links[entry.id] = ("reversal_of", entry.reverses_id, seq_of[entry.reverses_id])
    return links


@bp.get("/journal")
@roles_required(*READERS)
def journal():
    form, filters = _journal_filters()
    size = current_app.config["PAGE_SIZE"]
    page = db.paginate(queries.entries_query(**filters), per_page=size, max_per_page=size, error_out=False)
    export_args = {key: value for key, value in request.args.items() if key != "page" and value}
    return render_template(
        "ledger/journal.html", form=form, page=page, links=_reversal_links(page.items),
        filtered=any(filters.values()), export_args=export_args,
    )


@bp.get("/journal.csv")
@roles_required(*READERS)
def journal_csv():
    _form, filters = _journal_filters()
    line = aliased(JournalLine)  # the fund/account filter's EXISTS must not correlate with the joined lines
    stmt = (
        queries.entries_query(**filters, newest_first=False)
        .join(line, line.entry_id == JournalEntry.id)
        .join(Account, Account.id == line.account_id)
        .join(Fund, Fund.id == line.fund_id)
        .with_only_columns(JournalEntry.seq, JournalEntry.effective_date, JournalEntry.memo, Account.code,
                           Account.name, Fund.code, line.net_asset_class, line.amount, JournalEntry.hash)
        .order_by(None)
        .order_by(JournalEntry.seq, line.line_no)
        .execution_options(yield_per=CSV_BATCH)
    )
    header = [_("Entry"), _("Date"), _("Memo"), _("Account code"), _("Account name"), _("Fund code"),
              _("Net-asset class"), _("Debit"), _("Credit"), _("Entry hash")]

    def lines() -> Iterator[str]:
        yield csvexport.line(header)
        for seq, day, memo, code, name, fund, klass, amount, entry_hash in db.session.execute(stmt):
            debit, credit = _debit_credit(amount)
            yield csvexport.line([seq, day.isoformat(), memo, code, name, fund, klass, debit, credit, entry_hash])

    return csvexport.response(lines(), "journal.csv")


@bp.get("/export.<fmt>")
@roles_required("finance")
def export(fmt: str):
    """The whole ledger as a beancount file or an hledger/ledger-cli journal, streamed as a download."""
    if fmt not in FORMATS:
        abort(404)
    chunks = iter_export(db.session, fmt)
    try:
        first = next(chunks)  # the header: account names are checked here, before the response starts
    except ExportError as error:
        flash(error.message, "error")
        return redirect(url_for("ledger.journal"))

    def body() -> Iterator[str]:
        yield first
        yield from chunks

    filename = f"ledger-{_today().isoformat()}.{EXPORT_SUFFIXES[fmt]}"
    return Response(
        stream_with_context(body()),
        content_type="text/plain; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# --- entries --------------------------------------------------------------------------------------------------


@bp.get("/entries/<int:entry_id>")
@roles_required(*READERS)
def entry(entry_id: int):
    entry = db.get_or_404(JournalEntry, entry_id)
    reversal = queries.find_reversal(db.session, entry)
    can_reverse = (current_user.has_role("finance") and reversal is None and entry.reverses_id is None
                   and corrected_at_source(entry.source_type) is None)
    return render_template("ledger/entry.html", entry=entry, reversal=reversal, can_reverse=can_reverse)


def _post_from_form(form: EntryForm, accounts: list[Account], funds: list[Fund]):
    """Post the form's entry and redirect to it, or put the messages on the form and return None."""
    valid = form.validate()
    specs = form.line_specs(_by_id(accounts), _by_id(funds))
    key = form.idempotency_key.data
    if not valid_idempotency_key(key):
        form.idempotency_key.data = new_idempotency_key()
        form.form_errors.append(_("The form expired. Check it and submit it again."))
        return None
    if not valid or specs is None:
        form.form_errors.append(_("Correct the marked fields; nothing was posted."))
        return None
    already = db.session.scalar(select(JournalEntry.id).where(JournalEntry.idempotency_key == key))
    try:
        entry = post_entry(db.session, effective_date=form.effective_date.data, memo=form.memo.data, lines=specs,
                           idempotency_key=key, author=current_user)
    except DomainError as error:
        db.session.rollback()
        form.form_errors.append(error.message)
        if isinstance(error, IdempotencyConflict):
            form.idempotency_key.data = new_idempotency_key()  # a deliberate second entry may then be posted
        return None
    db.session.commit()
    if already is not None:
        flash(_("This entry was already posted; it was not posted again."), "info")
    else:
        flash(_("Entry #%(seq)d posted.", seq=entry.seq), "success")
    return redirect(url_for("ledger.entry", entry_id=entry.id))


@bp.route("/entries/new", methods=["GET", "POST"])
@roles_required("finance")
def new_entry():
    accounts, funds = _accounts(active_only=True), _funds(active_only=True)
    form = EntryForm()
    if not form.is_submitted():
        form.idempotency_key.data = new_idempotency_key()
        form.effective_date.data = _today()
    elif form.add_line.data:
        form.add_blank_line()
    else:
        posted = _post_from_form(form, accounts, funds)
        if posted is not None:
            return posted
    form.set_choices(accounts, funds)
    return render_template("ledger/new_entry.html", form=form)


def _reverse_blocked(entry: JournalEntry, reversal: JournalEntry | None) -> str | None:
    if entry.reverses_id is not None:
        return _("A reversal cannot itself be reversed; post a new entry instead.")
    if reversal is not None:
        return _("Entry #%(seq)d was already reversed by entry #%(by)d.", seq=entry.seq, by=reversal.seq)
    where = corrected_at_source(entry.source_type)
    if where is not None:
        return _("This entry comes from a %(source)s, which keeps its own records: it is corrected %(where)s, so that "
                 "they and the books agree.", source=source_label(entry.source_type), where=where)
    return None


@bp.route("/entries/<int:entry_id>/reverse", methods=["GET", "POST"])
@roles_required("finance")
def reverse(entry_id: int):
    entry = db.get_or_404(JournalEntry, entry_id)
    reversal = queries.find_reversal(db.session, entry)
    blocked = _reverse_blocked(entry, reversal)
    form = ReverseForm()
    if not form.is_submitted():
        form.effective_date.data = _today()
    elif blocked is None and form.validate():
        with form_service(form) as done:
            reversal = reverse_entry(db.session, entry, reason=form.reason.data, actor=current_user,
                                     effective_date=form.effective_date.data)
        if done.ok:
            flash(_("Entry #%(seq)d was reversed by entry #%(by)d.", seq=entry.seq, by=reversal.seq), "success")
            return redirect(url_for("ledger.entry", entry_id=reversal.id))
    return render_template("ledger/reverse.html", entry=entry, reversal=reversal, blocked=blocked, form=form)


# --- trial balance --------------------------------------------------------------------------------------------


def _trial_balance_params() -> tuple[TrialBalanceForm, list[Fund], dt.date, Fund | None]:
    form = TrialBalanceForm(formdata=request.args)
    funds = _funds()
    form.fund.choices = fund_choices(funds, _("All funds"))
    form.validate()
    return form, funds, form.as_of.data or _today(), _by_id(funds).get(form.fund.data or "")


@bp.get("/trial-balance")
@roles_required(*READERS)
def trial_balance():
    form, funds, as_of, fund = _trial_balance_params()
    balance = queries.trial_balance(db.session, as_of, fund)
    export_args = {"as_of": as_of.isoformat()} | ({"fund": fund.id} if fund else {})
    return render_template("ledger/trial_balance.html", form=form, funds=funds, tb=balance, export_args=export_args)


@bp.get("/trial-balance.csv")
@roles_required(*READERS)
def trial_balance_csv():
    _form, _funds_list, as_of, fund = _trial_balance_params()
    balance = queries.trial_balance(db.session, as_of, fund)

    def lines() -> Iterator[str]:
        yield csvexport.line([_("Code"), _("Name"), _("Debit"), _("Credit")])
        for row in balance.rows:
            yield csvexport.line([row.account.code, row.account.name, *_debit_credit(row.balance)])
        yield csvexport.line(["", _("Total"), balance.total_debit, balance.total_credit])

    suffix = f"-{fund.code}" if fund else ""
    return csvexport.response(lines(), f"trial-balance-{as_of.isoformat()}{suffix}.csv")


# --- chart of accounts ----------------------------------------------------------------------------------------


@bp.get("/accounts")
@roles_required(*READERS)
def accounts():
    balances = {row.account.id: row.balance for row in queries.trial_balance(db.session, _today()).rows}
    return render_template("ledger/accounts.html", accounts=_accounts(), balances=balances,
                           type_labels=ACCOUNT_TYPE_LABELS)


def _save_account(form: AccountForm, account: Account | None):
    """Create or update through the chart service; redirect, or put the message on the form and return None."""
    try:
        if account is None:
            account = create_account(db.session, form.values(), current_user)
        else:
            update_account(db.session, account, form.values(), current_user)
    except DomainError as error:
        db.session.rollback()
        form.form_errors.append(error.message)
        return None
    db.session.commit()
    flash(_("Account %(code)s saved.", code=account.code), "success")
    return redirect(url_for("ledger.accounts"))


@bp.route("/accounts/new", methods=["GET", "POST"])
@roles_required(*CHART_KEEPERS)
def account_new():
    form = AccountForm()
    if form.validate_on_submit():
        saved = _save_account(form, None)
        if saved is not None:
            return saved
    return render_template("ledger/account_form.html", form=form, account=None, locked=False)


@bp.route("/accounts/<int:account_id>/edit", methods=["GET", "POST"])
@roles_required(*CHART_KEEPERS)
def account_edit(account_id: int):
    account = db.get_or_404(Account, account_id)
    form = AccountForm(obj=account)
    if form.validate_on_submit():
        saved = _save_account(form, account)
        if saved is not None:
            return saved
    locked = account_has_lines(db.session, account)
    return render_template("ledger/account_form.html", form=form, account=account, locked=locked)


# --- periods --------------------------------------------------------------------------------------------------


def _closable_months() -> list[str]:
    """Ended months that may be chosen as 'close through', oldest first."""
    today = _today()
    last = (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1)
    start = next_closable(db.session)
    if start is None:
        year, month = last
        back = year * 12 + month - 1 - (FIRST_CLOSE_MONTHS - 1)
        start = (back // 12, back % 12 + 1)
        first_entry = db.session.scalar(select(func.min(JournalEntry.effective_date)))
        if first_entry is not None:
            start = min(start, (first_entry.year, first_entry.month))
    months = []
    while month_end(*start) < today:
        months.append(f"{start[0]}-{start[1]:02d}")
        start = next_month(*start)
    return months


def _render_periods(form: ClosePeriodForm):
    closed = list(db.session.scalars(select(Period).order_by(Period.end_date.desc())))
    user_ids = {period.closed_by_id for period in closed if period.closed_by_id}
    users = {user.id: user for user in db.session.scalars(select(User).where(User.id.in_(user_ids)))}
    months = _closable_months()
    form.month.choices = months
    if months and form.month.data not in months:
        form.month.data = months[0] if next_closable(db.session) else months[-1]
    return render_template("ledger/periods.html", form=form, closed=closed, users=users, months=months,
                           lock_date=lock_date(db.session))


@bp.get("/periods")
@roles_required(*READERS)
def periods():
    return _render_periods(ClosePeriodForm())


@bp.post("/periods/close")
@roles_required("finance")
def close_period():
    form = ClosePeriodForm()
    year_month = form.year_month()
    if not form.validate_on_submit() or year_month is None:
        form.form_errors.append(_("Choose a valid month."))
        return _render_periods(form)
    try:
        closed = close_through(db.session, *year_month, current_user)
    except DomainError as error:
        db.session.rollback()
        form.form_errors.append(error.message)
        return _render_periods(form)
    db.session.commit()
    flash(_("The books are closed through %(month)s.", month=closed[-1].label), "success")
    return redirect(url_for("ledger.periods"))


# --- year-end close -------------------------------------------------------------------------------------------

YEAR_CLOSERS = ("finance", "admin")


def _year_or_404(year: int) -> int:
    if not 1900 <= year <= 9998:
        abort(404)
    return year


@bp.get("/year-end")
@roles_required(*READERS)
def year_end():
    return render_template("ledger/yearend.html", years=years_overview(db.session), lock_date=lock_date(db.session),
                           today=_today())


def _render_year(year: int, form: YearCloseForm):
    plan = plan_close(db.session, year, _today())
    can_close = plan.closable and current_user.has_role(*YEAR_CLOSERS)
    return render_template("ledger/yearend_year.html", plan=plan, form=form, can_close=can_close)


@bp.get("/year-end/<int:year>")
@roles_required(*READERS)
def year_end_detail(year: int):
    return _render_year(_year_or_404(year), YearCloseForm())


@bp.post("/year-end/<int:year>/close")
@roles_required(*YEAR_CLOSERS)
def year_end_close(year: int):
    _year_or_404(year)
    form = YearCloseForm()
    if not form.validate_on_submit():
        return _render_year(year, form)
    if not form.confirms(year):
        form.confirm.errors = [_("Type %(year)s to confirm.", year=year)]
        return _render_year(year, form)
    with form_service(form) as done:
        result = close_year(db.session, year, current_user)
    if not done.ok:
        return _render_year(year, form)
    flash(_("%(year)s is closed: entry #%(seq)d closed its revenue and expenses into net assets, and the books are "
            "closed through %(date)s.", year=year, seq=result.entry.seq, date=result.periods[-1].end_date.isoformat()),
          "success")
    return redirect(url_for("ledger.year_end_detail", year=year))


# --- release from restriction ---------------------------------------------------------------------------------

RELEASERS = ("finance", "admin")


def _render_release(through: dt.date, filters: ReleaseDateForm, form: ReleaseForm):
    plan = plan_release(db.session, through, _today())
    form.through.data = through
    return render_template("ledger/release.html", plan=plan, filters=filters, form=form,
                           can_post=plan.postable and current_user.has_role(*RELEASERS),
                           latest=latest_release(db.session), lock_date=lock_date(db.session), today=_today())


@bp.get("/release")
@roles_required(*READERS)
def release():
    filters = ReleaseDateForm(formdata=request.args)
    filters.validate()
    through = filters.through.data or default_through(db.session, _today())
    filters.through.data = through
    return _render_release(through, filters, ReleaseForm(formdata=None))


@bp.post("/release")
@roles_required(*RELEASERS)
def release_post():
    form = ReleaseForm()
    through = form.through.data if isinstance(form.through.data, dt.date) else None
    if not form.validate_on_submit() or through is None:
        day = through or default_through(db.session, _today())
        return _render_release(day, ReleaseDateForm(formdata=None, through=day), form)
    with form_service(form) as done:
        released = release_restrictions(db.session, through, current_user, _today())
    if not done.ok:
        return _render_release(through, ReleaseDateForm(formdata=None, through=through), form)
    flash(_("Restrictions are released through %(date)s by entry #%(seq)d.", date=through.isoformat(),
            seq=released.seq), "success")
    return redirect(url_for("ledger.entry", entry_id=released.id))
