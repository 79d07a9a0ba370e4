"""Grant pages of the board: agendas (staff set them up, open and close them), items (the packet, the vote, a
declared conflict), decisions (the count, the minutes PDF) and staff decisions under the limit.

Board members vote from a phone: one column, big buttons, a confirmation step before the vote is cast."""

from __future__ import annotations

from decimal import Decimal

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import case, func, select
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from fundapp.auth.decorators import roles_required
from fundapp.extensions import db
from fundapp.grants import board
from fundapp.grants.decisions import staff_limit
from fundapp.grants.forms_board import (
    ActionForm,
    AgendaForm,
    ConfirmForm,
    ItemForm,
    RecuseForm,
    StaffDecisionForm,
    VoteForm,
    amount_of,
)
from fundapp.grants.minutes import (
    choice_label,
    decision_figures,
    fund_now,
    local_time,
    mean_score,
    minutes_pdf,
    outcome_label,
    review_rows,
)
from fundapp.grants.models import (
    AgendaItem,
    AgendaStatus,
    Application,
    ApplicationStatus,
    BoardAgenda,
    DecisionOutcome,
    GrantDecision,
    ItemStatus,
)
from fundapp.grants.views import bp
from fundapp.grants.web import BOARD, READERS, STAFF, today
from fundapp.money import fmt
from fundapp.web import form_service

AGENDA_ORDER = case((BoardAgenda.status == AgendaStatus.open.value, 0),
                    (BoardAgenda.status == AgendaStatus.draft.value, 1), else_=2)
OPTIONAL_LINKS = ("grants.application_detail", "grants.attachment_download", "grants.programme_detail",
                  "grants.award_detail", "grants.organisation_detail")


def _links() -> dict[str, bool]:
    """Which pages of the other grant stages exist (linked only when they do)."""
    return {name.split(".", 1)[1]: name in current_app.view_functions for name in OPTIONAL_LINKS}


def _labels() -> dict:
    return {"choice_label": choice_label, "outcome_label": outcome_label, "local_time": local_time,
            "links": _links(), "is_staff": current_user.has_role(*STAFF), "is_board": current_user.has_role(BOARD)}


def _agenda_status_labels() -> dict[str, str]:
    return {AgendaStatus.draft.value: _("Draft"), AgendaStatus.open.value: _("Open for votes"),
            AgendaStatus.closed.value: _("Closed")}


def _item_status_labels() -> dict[str, str]:
    return {ItemStatus.pending.value: _("Waiting for a decision"), ItemStatus.decided.value: _("Decided"),
            ItemStatus.withdrawn.value: _("Withdrawn")}


def _decisions_by_item(item_ids: list[int]) -> dict[int, GrantDecision]:
    if not item_ids:
        return {}
    rows = db.session.scalars(select(GrantDecision).where(GrantDecision.item_id.in_(item_ids)))
    return {d.item_id: d for d in rows}


# --- agendas -------------------------------------------------------------------------------------------------------


@bp.get("/agendas")
@roles_required(*READERS)
def agendas():
    stmt = select(BoardAgenda)
    if not current_user.has_role(*STAFF):
        stmt = stmt.where(BoardAgenda.status != AgendaStatus.draft.value)  # drafts are staff's work in progress
    stmt = stmt.order_by(AGENDA_ORDER, BoardAgenda.meeting_on.desc(), BoardAgenda.id.desc())
    page = db.paginate(stmt, per_page=current_app.config.get("PAGE_SIZE", 50), error_out=False)
    ids = [a.id for a in page.items]
    counts: dict[tuple[int, str], int] = {}
    if ids:
        rows = db.session.execute(select(AgendaItem.agenda_id, AgendaItem.status, func.count(AgendaItem.id))
                                  .where(AgendaItem.agenda_id.in_(ids))
                                  .group_by(AgendaItem.agenda_id, AgendaItem.status))
        counts = {(agenda_id, status): n for agenda_id, status, n in rows}
    awaiting = board.awaiting_counts(db.session, current_user.id) if current_user.has_role(BOARD) else {}
    return render_template("grants/agendas.html", page=page, counts=counts, awaiting=awaiting,
                           awaiting_total=sum(awaiting.values()), status_labels=_agenda_status_labels(),
                           **_labels())


@bp.route("/agendas/new", methods=["GET", "POST"])
@roles_required(*STAFF)
def agenda_new():
    form = AgendaForm()
    if form.validate_on_submit():
        with form_service(form) as done:
            agenda = board.create_agenda(db.session, form.title.data, form.meeting_on.data, form.deadline(),
                                         current_user)
        if done.ok:
            flash(_("Agenda created. Add the recommended applications, then open it for the board's vote."),
                  "success")
            return redirect(url_for("grants.agenda_detail", agenda_id=agenda.id))
    return render_template("grants/agenda_new.html", form=form)


@bp.get("/agendas/<int:agenda_id>")
@roles_required(*READERS)
def agenda_detail(agenda_id: int):
    agenda = db.session.scalar(select(BoardAgenda).where(BoardAgenda.id == agenda_id).options(
        selectinload(BoardAgenda.items).selectinload(AgendaItem.application).selectinload(Application.versions)))
    if agenda is None or (agenda.status == AgendaStatus.draft.value and not current_user.has_role(*STAFF)):
        abort(404)
    members = board.board_member_ids(db.session)
    item_ids = [item.id for item in agenda.items]
    counts = board.agenda_counts(db.session, item_ids, members, current_user.id)
    return render_template("grants/agenda_detail.html", agenda=agenda, counts=counts, members=len(members),
                           decisions=_decisions_by_item(item_ids), deadline_passed=board.deadline_passed(agenda),
                           action_form=ActionForm(formdata=None), status_labels=_agenda_status_labels(),
                           item_labels=_item_status_labels(), **_labels())


def _recommended_choices() -> list[SelectChoice]:
    rows = db.session.scalars(select(Application).where(Application.status == ApplicationStatus.recommended.value)
                              .order_by(Application.reference)).all()
    choices = [SelectChoice("", _("Choose a recommended application"))]
    for application in rows:
        version = application.latest_submitted or application.current
        choices.append(SelectChoice(str(application.id), _(
            "%(ref)s · %(org)s · %(title)s · asks ¥%(amount)s", ref=application.reference,
            org=application.organisation.name, title=version.title, amount=fmt(version.requested_amount))))
    return choices


@bp.route("/agendas/<int:agenda_id>/items/new", methods=["GET", "POST"])
@roles_required(*STAFF)
def agenda_item_add(agenda_id: int):
    agenda = db.get_or_404(BoardAgenda, agenda_id)
    form = ItemForm()
    form.application.choices = _recommended_choices()
    if not form.is_submitted() and request.args.get("application", "").isdigit():
        form.application.data = request.args["application"]
    if form.validate_on_submit():
        application = db.session.get(Application, int(form.application.data)) \
            if (form.application.data or "").isdigit() else None
        amount = amount_of(form.amount)
        if application is None:
            form.application.errors.append(_("Choose an application."))
        elif amount is not None:
            with form_service(form) as done:
                board.add_item(db.session, agenda, application, amount, form.recommendation.data, current_user)
            if done.ok:
                flash(_("%(ref)s was put on the agenda.", ref=application.reference), "success")
                return redirect(url_for("grants.agenda_detail", agenda_id=agenda.id))
    return render_template("grants/agenda_item_add.html", form=form, agenda=agenda, limit=staff_limit())


@bp.post("/agendas/<int:agenda_id>/open")
@roles_required(*STAFF)
def agenda_open(agenda_id: int):
    agenda = db.get_or_404(BoardAgenda, agenda_id)
    form = ActionForm()
    if form.validate_on_submit():
        with form_service(form) as done:
            board.open_agenda(db.session, agenda, current_user)
        if done.ok:
            flash(_("The agenda is open: the board members were told."), "success")
        else:
            flash(form.form_errors[-1], "error")
    return redirect(url_for("grants.agenda_detail", agenda_id=agenda_id))


def _previews(items: list[AgendaItem]) -> dict[int, tuple[board.Tally, str]]:
    members, rules = board.board_member_ids(db.session), board.rules()
    out = {}
    for item in items:
        tally = board.tally_item(db.session, item.id, members)
        out[item.id] = (tally, board.outcome(tally, rules.quorum, rules.majority))
    return out


@bp.route("/agendas/<int:agenda_id>/close", methods=["GET", "POST"])
@roles_required(*STAFF)
def agenda_close(agenda_id: int):
    agenda = db.get_or_404(BoardAgenda, agenda_id)
    form = ConfirmForm()
    if agenda.status == AgendaStatus.open.value and form.validate_on_submit():
        with form_service(form) as done:
            decisions = board.close_agenda(db.session, agenda, current_user)
        if done.ok:
            flash(_("The agenda is closed; %(n)d item(s) were decided.", n=len(decisions)), "success")
            return redirect(url_for("grants.agenda_detail", agenda_id=agenda_id))
    pending = [i for i in agenda.items if i.status == ItemStatus.pending.value]
    return render_template("grants/agenda_close.html", agenda=agenda, form=form, pending=pending,
                           previews=_previews(pending), rules=board.rules(), **_labels())


# --- items ---------------------------------------------------------------------------------------------------------


def _render_item(item: AgendaItem, vote_form: VoteForm | None = None, status: int = 200):
    application = item.application
    version = application.latest_submitted or application.current
    reviews = review_rows(db.session, application)
    members = board.board_member_ids(db.session)
    state = board.member_state(db.session, item.id, current_user.id) if current_user.has_role(BOARD) else None
    blocked = board.vote_blocked(db.session, item, current_user) if current_user.has_role(BOARD) else None
    decision = _decisions_by_item([item.id]).get(item.id)
    return render_template(
        "grants/item_detail.html", item=item, application=application, version=version, reviews=reviews,
        mean=mean_score(reviews), fund=fund_now(db.session, application, today()),
        tally=board.tally_item(db.session, item.id, members), members=len(members), state=state,
        blocked=blocked, decision=decision, vote_form=vote_form or VoteForm(formdata=None),
        action_form=ActionForm(formdata=None), limit=staff_limit(), rules=board.rules(),
        item_labels=_item_status_labels(), **_labels()), status


def _visible_item(item_id: int) -> AgendaItem:
    """The item, or 404 (also for a board member while its agenda is still a draft: staff's work in progress)."""
    item = db.get_or_404(AgendaItem, item_id)
    if item.agenda.status == AgendaStatus.draft.value and not current_user.has_role(*STAFF):
        abort(404)
    return item


@bp.get("/items/<int:item_id>")
@roles_required(*READERS)
def item_detail(item_id: int):
    return _render_item(_visible_item(item_id))


@bp.post("/items/<int:item_id>/vote")
@roles_required(BOARD)
def item_vote(item_id: int):
    """Step one (choice + comment) shows the confirmation; step two (confirmed=1) casts the vote."""
    item = _visible_item(item_id)
    form = VoteForm()
    if not form.validate_on_submit():
        return _render_item(item, form, 200)
    blocked = board.vote_blocked(db.session, item, current_user)
    if blocked:
        form.form_errors.append(blocked)
        return _render_item(item, form, 200)
    if form.confirmed.data != "1":
        return render_template("grants/item_vote_confirm.html", item=item, form=form, **_labels())
    with form_service(form) as done:
        result = board.cast_vote(db.session, item, current_user, form.choice.data, form.comment.data)
    if not done.ok:
        return _render_item(item, form, 200)
    flash(_("Your vote (%(choice)s) was recorded.", choice=choice_label(form.choice.data)), "success")
    _flash_result(result)
    return redirect(url_for("grants.item_detail", item_id=item_id))


def _flash_result(result: board.VoteResult) -> None:
    if result.decision is not None:
        flash(_("Every board member has voted or declared a conflict: the item was decided (%(result)s).",
                result=outcome_label(result.decision.outcome)), "success")
    elif result.held:
        flash(_("Every board member has voted, but the decision is held: %(message)s", message=result.held),
              "warning")


@bp.route("/items/<int:item_id>/recuse", methods=["GET", "POST"])
@roles_required(BOARD)
def item_recuse(item_id: int):
    item = _visible_item(item_id)
    form = RecuseForm()
    blocked = board.recusal_blocked(db.session, item, current_user)
    if blocked is None and form.validate_on_submit():
        with form_service(form) as done:
            result = board.declare_recusal(db.session, item, current_user, form.reason.data)
        if done.ok:
            flash(_("Your conflict of interest was recorded: you will not vote on this item."), "success")
            _flash_result(result)
            return redirect(url_for("grants.item_detail", item_id=item_id))
    return render_template("grants/item_recuse.html", item=item, form=form, blocked=blocked, **_labels())


@bp.post("/items/<int:item_id>/withdraw")
@roles_required(*STAFF)
def item_withdraw(item_id: int):
    item = db.get_or_404(AgendaItem, item_id)
    form = ActionForm()
    if form.validate_on_submit():
        with form_service(form) as done:
            board.withdraw_item(db.session, item, current_user)
        if done.ok:
            flash(_("The item was withdrawn; the application is recommended again."), "success")
        else:
            flash(form.form_errors[-1], "error")
    return redirect(url_for("grants.agenda_detail", agenda_id=item.agenda_id))


@bp.route("/items/<int:item_id>/decide", methods=["GET", "POST"])
@roles_required(*STAFF)
def item_decide(item_id: int):
    """Close one item now (the votes cast so far are counted)."""
    item = db.get_or_404(AgendaItem, item_id)
    form = ConfirmForm()
    decidable = item.status == ItemStatus.pending.value and item.agenda.status == AgendaStatus.open.value
    if decidable and form.validate_on_submit():
        with form_service(form) as done:
            decision = board.decide_item(db.session, item, current_user)
        if done.ok:
            if decision is None:
                flash(_("The application was withdrawn meanwhile; the item was withdrawn."), "info")
            else:
                flash(_("The item was decided: %(result)s.", result=outcome_label(decision.outcome)), "success")
            return redirect(url_for("grants.item_detail", item_id=item_id))
    return render_template("grants/item_decide.html", item=item, form=form, decidable=decidable,
                           previews=_previews([item]) if decidable else {}, rules=board.rules(), **_labels())


# --- decisions -----------------------------------------------------------------------------------------------------


@bp.route("/applications/<int:application_id>/decide", methods=["GET", "POST"])
@roles_required(*STAFF)
def staff_decision(application_id: int):
    """Staff approve (within the limit) or reject a recommended application alone, after a confirmation."""
    application = db.get_or_404(Application, application_id)
    version = application.latest_submitted or application.current
    form = StaffDecisionForm()
    if not form.is_submitted():
        form.amount.data = str(version.requested_amount)
    amount: Decimal | None = None
    if form.validate_on_submit():
        approving = form.outcome.data == DecisionOutcome.approved.value
        amount = amount_of(form.amount) if approving else None
        if not approving or amount is not None:
            if form.confirmed.data != "1":
                return render_template("grants/decision_staff_confirm.html", application=application,
                                       version=version, form=form, amount=amount, approving=approving, **_labels())
            with form_service(form) as done:
                decision = board.staff_decide(db.session, application, form.outcome.data, amount,
                                              form.note.data, current_user)
            if done.ok:
                flash(_("Decision recorded: %(result)s.", result=outcome_label(decision.outcome)), "success")
                return redirect(url_for("grants.decision_detail", decision_id=decision.id))
    reviews = review_rows(db.session, application)
    return render_template("grants/decision_staff.html", application=application, version=version, form=form,
                           limit=staff_limit(), mean=mean_score(reviews), fund=fund_now(db.session, application),
                           decidable=application.status == ApplicationStatus.recommended.value, **_labels())


@bp.get("/decisions/<int:decision_id>")
@roles_required(*READERS)
def decision_detail(decision_id: int):
    decision = db.get_or_404(GrantDecision, decision_id)
    return render_template("grants/decision_detail.html", decision=decision, item=decision.item,
                           application=decision.application, figures=decision_figures(db.session, decision),
                           reviews=review_rows(db.session, decision.application), **_labels())


@bp.get("/decisions/<int:decision_id>/minutes.pdf")
@roles_required(*READERS)
def decision_minutes_pdf(decision_id: int):
    from fundapp.donations.web import pdf_response

    decision = db.get_or_404(GrantDecision, decision_id)
    filename = f"minutes-{decision.application.reference}-{decision.id}.pdf"
    return pdf_response(minutes_pdf(db.session, decision), filename)
