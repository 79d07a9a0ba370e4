"""Enterprise pages: the list, an enterprise's page (agreement, open periods, reports, timeline), create and
edit, agreement versions. Reports and payments: `report_views`; arrears and the dashboard: `dashboard_views`.

Views are thin: parse the form, call one service, commit or roll back, flash, redirect.
"""

from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from fundapp.auth.decorators import roles_required
from fundapp.auth.models import Role, User, UserRole
from fundapp.enterprises import queries
from fundapp.enterprises.agreements import AgreementInput, create_agreement, latest_version, version_on
from fundapp.enterprises.arrears import arrears
from fundapp.enterprises.enterprises import save_enterprise
from fundapp.enterprises.forms import (
    BASIS_LABELS,
    NATURE_LABELS,
    PERIODICITY_LABELS,
    STATUS_LABELS,
    AgreementForm,
    EnterpriseFilterForm,
    EnterpriseForm,
    money_field,
    parse_percent,
    parse_tiers,
)
from fundapp.enterprises.models import Agreement, Enterprise
from fundapp.enterprises.periods import next_start, period_start
from fundapp.enterprises.web import (
    MANAGERS,
    PORTAL,
    READERS,
    VIEWERS,
    allowed,
    fund_by_id,
    fund_choices,
    is_reader,
    own_enterprise_id,
    require,
    today,
)
from fundapp.errors import DomainError
from fundapp.extensions import db
from fundapp.web import form_service

bp = Blueprint("enterprises", __name__, url_prefix="/enterprises")
LABELS = {"status_labels": STATUS_LABELS, "basis_labels": BASIS_LABELS, "nature_labels": NATURE_LABELS,
          "periodicity_labels": PERIODICITY_LABELS}


@bp.app_template_filter("percent")
def percent(value: Decimal | None) -> str:
    """5.2500 -> 5.25 (a percentage as the agreement states it)."""
    return "" if value is None else f"{value.normalize():f}"


@bp.app_template_filter("exact")
def exact(value: Decimal) -> str:
    """An unrounded amount with all its decimals (at least two): 1876.542400 -> 1,876.5424."""
    value = value.normalize()
    if value.as_tuple().exponent > -2:
        value = value.quantize(Decimal("0.01"))
    return f"{value:,f}"


# --- the list -----------------------------------------------------------------------------------------------------


@bp.get("/")
@roles_required(*READERS)
def index():
    form = EnterpriseFilterForm(formdata=request.args)
    form.validate()
    text = form.q.data if form.q.data and not form.q.errors else None
    size = current_app.config["PAGE_SIZE"]
    page = db.paginate(queries.enterprises_query(text, form.status.data or None), per_page=size, max_per_page=size,
                       error_out=False)
    return render_template("enterprises/index.html", form=form, page=page, totals=queries.enterprise_totals(db.session),
                           waiting=queries.waiting_revisions(db.session), filtered=bool(text or form.status.data),
                           can_manage=current_user.has_role(*MANAGERS), **LABELS)


@bp.get("/mine")
@roles_required(PORTAL)
def mine():
    enterprise_id = own_enterprise_id()
    if enterprise_id is not None:
        return redirect(url_for("enterprises.detail", enterprise_id=enterprise_id))
    return render_template("enterprises/not_linked.html")


# --- one enterprise -----------------------------------------------------------------------------------------------


@bp.get("/<int:enterprise_id>")
@roles_required(*VIEWERS)
def detail(enterprise_id: int):
    enterprise = db.get_or_404(Enterprise, enterprise_id)
    require(enterprise.id, *READERS)
    day = today()
    owed = arrears(db.session, day, enterprise.id)
    return render_template(
        "enterprises/detail.html", enterprise=enterprise, day=day,
        current=version_on(db.session, enterprise.id, day) or latest_version(db.session, enterprise.id),
        totals=queries.enterprise_totals(db.session).get(enterprise.id, queries.Totals()),
        open_periods=queries.enterprise_open_periods(db.session, enterprise, day),
        reports=queries.enterprise_reports(db.session, enterprise.id),
        timeline=queries.timeline(db.session, enterprise.id),
        buckets={report.id: bucket for report, _days, bucket in owed.rows},
        can_manage=current_user.has_role(*MANAGERS), can_file=allowed(enterprise.id, *MANAGERS),
        is_reader=is_reader(), **LABELS)


def _board_choices() -> list[SelectChoice]:
    board = db.session.scalars(select(User).join(UserRole).where(UserRole.role == Role.board.value)
                               .order_by(User.name, User.email))
    return [SelectChoice(u.id, f"{u.display_name} <{u.email}>") for u in board]


def _save(form: EnterpriseForm, enterprise: Enterprise | None):
    try:
        enterprise = save_enterprise(db.session, enterprise, form.values(), current_user, member_emails=form.emails(),
                                     related_user_ids=form.related_parties.data or [])
    except DomainError as error:
        db.session.rollback()
        form.form_errors.append(error.message)
        return None
    db.session.commit()
    flash(_("Enterprise %(name)s saved.", name=enterprise.name), "success")
    return redirect(url_for("enterprises.detail", enterprise_id=enterprise.id))


def _enterprise_form(enterprise: Enterprise | None):
    form = EnterpriseForm(obj=enterprise)
    form.related_parties.choices = _board_choices()
    if not form.is_submitted() and enterprise is not None:
        form.portal_emails.data = "\n".join(m.user.email for m in enterprise.members)
        form.related_parties.data = [r.user_id for r in enterprise.related_parties]
    elif form.validate_on_submit():
        saved = _save(form, enterprise)
        if saved is not None:
            return saved
    elif form.is_submitted():
        form.form_errors.append(_("Correct the marked fields; nothing was saved."))
    return render_template("enterprises/form.html", form=form, enterprise=enterprise)


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def new():
    return _enterprise_form(None)


@bp.route("/<int:enterprise_id>/edit", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def edit(enterprise_id: int):
    return _enterprise_form(db.get_or_404(Enterprise, enterprise_id))


# --- agreements ---------------------------------------------------------------------------------------------------


def _prefill(form: AgreementForm, previous: Agreement | None) -> None:
    day = today()
    if previous is None:
        form.effective_from.data = period_start(day, "monthly")
        form.rate.data, form.minimum.data = "", ""
        return
    for name in ("reference", "nature", "basis", "periodicity", "due_days", "note"):
        getattr(form, name).data = getattr(previous, name)
    form.fund.data = str(previous.fund_id)
    form.minimum.data = str(previous.minimum) if previous.minimum else ""
    form.rate.data = percent(previous.tiers[0].rate) if previous.tiers else ""
    form.extra_tiers.data = "\n".join(f"{t.lower_bound}: {percent(t.rate)}" for t in previous.tiers[1:])
    form.effective_from.data = next_start(period_start(day, previous.periodicity), previous.periodicity)
    form.ends_on.data = previous.ends_on


def _agreement_input(form: AgreementForm, enterprise: Enterprise) -> AgreementInput | None:
    valid = form.validate()
    fund = fund_by_id(form.fund.data)
    if fund is None:
        form.fund.errors.append(_("Choose a fund."))
    tiers, problem = parse_tiers(form.rate.data, form.extra_tiers.data)
    if problem:
        (form.rate if parse_percent(form.rate.data) is None else form.extra_tiers).errors.append(problem)
    minimum = money_field(form.minimum, blank=Decimal("0.00"))
    if not valid or fund is None or tiers is None or minimum is None:
        form.form_errors.append(_("Correct the marked fields; nothing was saved."))
        return None
    return AgreementInput(enterprise=enterprise, effective_from=form.effective_from.data, basis=form.basis.data,
                          nature=form.nature.data, fund=fund, periodicity=form.periodicity.data,
                          due_days=form.due_days.data, tiers=tiers, minimum=minimum, ends_on=form.ends_on.data,
                          reference=form.reference.data or "", signed_on=form.signed_on.data,
                          note=form.note.data or "")


@bp.route("/<int:enterprise_id>/agreements/new", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def agreement_new(enterprise_id: int):
    enterprise = db.get_or_404(Enterprise, enterprise_id)
    previous = latest_version(db.session, enterprise.id)
    form = AgreementForm()
    form.fund.choices = fund_choices()
    if not form.is_submitted():
        _prefill(form, previous)
    else:
        data = _agreement_input(form, enterprise)
        if data is not None:
            with form_service(form) as done:
                agreement = create_agreement(db.session, data, current_user)
            if done.ok:
                flash(_("Version %(n)d of the agreement was saved.", n=agreement.version), "success")
                return redirect(url_for("enterprises.agreement", agreement_id=agreement.id))
    return render_template("enterprises/agreement_form.html", form=form, enterprise=enterprise, previous=previous)


@bp.get("/agreements/<int:agreement_id>")
@roles_required(*VIEWERS)
def agreement(agreement_id: int):
    agreement = db.get_or_404(Agreement, agreement_id)
    require(agreement.enterprise_id, *READERS)
    versions = queries.agreement_versions(db.session, agreement.enterprise_id)
    return render_template("enterprises/agreement.html", agreement=agreement, versions=versions,
                           can_manage=current_user.has_role(*MANAGERS), **LABELS)


# The other pages register their routes on `bp`.
from fundapp.enterprises import dashboard_views, report_views  # noqa: E402,F401
