"""Wiring for `create_app`: extensions, locale, blueprints, CLI, error pages, headers, template helpers."""

from __future__ import annotations

import functools
import os
from decimal import Decimal

from babel import Locale
from flask import Flask, abort, g, has_request_context, jsonify, render_template, request, session
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.routing import IntegerConverter

from fundapp.dates import local_today
from fundapp.errors import DomainError
from fundapp.extensions import babel, csrf, db, limiter, login_manager, migrate
from fundapp.ledger.sources import source_label

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def select_locale() -> str:
    langs = current_app_languages()
    if not has_request_context():  # CLI and background work speak the default language
        return langs[0]
    chosen = session.get("lang")
    if chosen in langs:
        return chosen
    if current_user and getattr(current_user, "is_authenticated", False) and current_user.locale in langs:
        return current_user.locale
    return request.accept_languages.best_match(langs) or langs[0]


@functools.cache
def parsed_locale(name: str) -> Locale:
    """Flask-Babel parses the selector's answer on every request, and `Locale.parse("zh_CN")` scans babel's ~1,000
    locale names twice (there is no zh_CN.dat): about half the Python work of a cached public page. Parse each
    language once; Flask-Babel takes a Locale as it is."""
    return Locale.parse(name)


def current_app_languages() -> tuple[str, ...]:
    from flask import current_app

    return tuple(current_app.config["LANGUAGES"])


def init_app(app: Flask) -> None:
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        os.makedirs(app.instance_path, exist_ok=True)
    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"),
                     compare_type=True, render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    _skip_limiter_on_open_site(app)
    babel.init_app(app, locale_selector=lambda: parsed_locale(select_locale()),
                   default_translation_directories=os.path.join(app.root_path, "translations"))
    _init_login(app)
    app.url_map.converters["int"] = DatabaseInteger
    app.before_request(_refuse_nul_characters)
    _register_blueprints(app)
    _register_cli(app)
    _register_errors(app)
    _register_template_helpers(app)
    app.after_request(_security_headers)


class DatabaseInteger(IntegerConverter):
    """`<int:...>` ids fit the database's integer columns: a larger number is a 404 without a query (PostgreSQL
    would refuse it with an error)."""

    def __init__(self, url_map, fixed_digits: int = 0, min: int | None = None, max: int | None = 2**31 - 1,
                 signed: bool = False) -> None:
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def _refuse_nul_characters():
    """A NUL character can never be stored (PostgreSQL refuses it in text): refuse it up front as bad input."""
    values = [request.path, *request.args.values(), *(request.form.values() if request.form else ())]
    if any("\x00" in value for value in values):
        if request.path.startswith(OPEN_DATA_PREFIX):
            return jsonify({"error": "bad_request", "message": "NUL characters are not allowed"}), 400
        abort(400)


def _init_login(app: Flask) -> None:
    from fundapp.auth.models import User

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id: str):
        if not user_id.isdigit():
            return None
        return db.session.get(User, int(user_id))


def _register_blueprints(app: Flask) -> None:
    from fundapp.admin.views import bp as admin_bp
    from fundapp.auth.views import bp as auth_bp
    from fundapp.funds.views import bp as funds_bp
    from fundapp.ledger.views import bp as ledger_bp
    from fundapp.main.views import bp as main_bp

    for blueprint in (main_bp, auth_bp, admin_bp, ledger_bp, funds_bp):
        app.register_blueprint(blueprint)
    from fundapp.donations.views import bp as donations_bp
    app.register_blueprint(donations_bp)
    from fundapp.donations.portal_views import bp as portal_bp
    app.register_blueprint(portal_bp)
    from fundapp.tasks import init_app as init_tasks
    init_tasks(app)
    from fundapp.enterprises.views import bp as enterprises_bp
    app.register_blueprint(enterprises_bp)
    from fundapp.grants.views import bp as grants_bp
    app.register_blueprint(grants_bp)
    from fundapp.notify.views import bp as inbox_bp
    app.register_blueprint(inbox_bp)
    from fundapp.reports.views import bp as reports_bp
    app.register_blueprint(reports_bp)
    from fundapp.compliance.views import bp as compliance_bp
    app.register_blueprint(compliance_bp)
    from fundapp.api.views import bp as api_bp
    app.register_blueprint(api_bp)
    from fundapp.volunteers.certificate_views import bp as certificates_bp
    from fundapp.volunteers.points_views import bp as points_bp
    from fundapp.volunteers.portal_views import bp as volunteer_portal_bp
    from fundapp.volunteers.views import bp as volunteers_bp
    for blueprint in (volunteers_bp, points_bp, volunteer_portal_bp, certificates_bp):
        app.register_blueprint(blueprint)
    from fundapp.disclosure.views import bp as disclosure_bp
    app.register_blueprint(disclosure_bp)
    # Only sign-in is rate-limited; the read-only public site and API skip the limiter's per-request work.
    limiter.exempt(disclosure_bp)
    limiter.exempt(api_bp)


OPEN_BLUEPRINTS = frozenset({"disclosure", "api"})  # read-only, no login: never rate-limited


def _skip_limiter_on_open_site(app: Flask) -> None:
    """Flask-Limiter's before_request resolves the view and its limits even for an exempt blueprint (a quarter of
    a cached public page's time): run it only outside the open site; sign-in, where the limits are, is there."""
    funcs = app.before_request_funcs.setdefault(None, [])
    if limiter._check_request_limit not in funcs:
        return  # RATELIMIT_ENABLED is off (tests): the limiter registered nothing
    position = funcs.index(limiter._check_request_limit)
    check = funcs[position]

    def check_limits():
        if request.blueprint not in OPEN_BLUEPRINTS:
            return check()
        return None

    funcs[position] = check_limits


def _register_cli(app: Flask) -> None:
    from fundapp.auth.cli import users_cli
    from fundapp.demo.cli import demo_cli
    from fundapp.funds.cli import funds_cli
    from fundapp.ledger.cli import ledger_cli

    for group in (users_cli, funds_cli, ledger_cli, demo_cli):
        app.cli.add_command(group)
    from fundapp.donations.cli import donations_cli
    app.cli.add_command(donations_cli)
    from fundapp.enterprises.cli import enterprises_cli
    app.cli.add_command(enterprises_cli)
    from fundapp.notify.cli import notify_cli
    app.cli.add_command(notify_cli)
    from fundapp.volunteers.cli import volunteers_cli
    app.cli.add_command(volunteers_cli)
    from fundapp.ops.cli import commands as ops_commands
    for command in ops_commands:
        app.cli.add_command(command)


def _register_errors(app: Flask) -> None:
    def page(code: int, title: str, message: str):
        return render_template("error.html", code=code, title=title, message=message), code

    app.register_error_handler(400, lambda e: page(400, _("Bad request"), _("The request could not be understood.")))
    app.register_error_handler(403, lambda e: page(403, _("Not allowed"), _("Your roles do not allow this page.")))
    def not_found(e):
        if request.path.startswith(OPEN_DATA_PREFIX):  # the open-data API answers in JSON, even for unknown URLs
            return jsonify({"error": "not_found", "message": "There is no such resource."}), 404
        return page(404, _("Not found"), _("There is no such page."))

    app.register_error_handler(404, not_found)
    app.register_error_handler(405, lambda e: page(405, _("Not allowed"), _("That method is not allowed here.")))
    app.register_error_handler(
        413, lambda e: page(413, _("File too large"), _("The file is larger than this site accepts."))
    )
    app.register_error_handler(
        429, lambda e: page(429, _("Too many attempts"), _("Too many attempts; wait a minute and try again."))
    )

    @app.errorhandler(CSRFError)
    def csrf_error(e):
        return page(400, _("Form expired"), _("The form expired or was sent twice. Go back, reload and try again."))

    @app.errorhandler(DomainError)
    def domain_error(e: DomainError):
        db.session.rollback()
        return page(e.http_status, _("Not possible"), e.message)

    @app.errorhandler(500)
    def server_error(e):
        db.session.rollback()
        return page(500, _("Something went wrong"), _("Nothing was saved. Please try again or tell the administrator."))


def format_money(value: Decimal | None, blank_zero: bool = False) -> str:
    if value is None or (blank_zero and value == 0):
        return ""
    return format_decimal(value, format="#,##0.00")


def _register_template_helpers(app: Flask) -> None:
    from fundapp.auth.models import Role

    app.jinja_env.filters["money"] = format_money
    app.jinja_env.globals["today"] = local_today
    app.jinja_env.globals["entry_source"] = source_label
    app.jinja_env.globals["ROLES"] = [r.value for r in Role]

    @app.context_processor
    def inject():
        return {
            "foundation_name": app.config.get("FOUNDATION_NAME") or _("Community Foundation"),
            "current_lang": select_locale(),
        }

    @app.url_value_preprocessor  # runs before every before_request, so error pages of CSRF/limiter have it too
    def remember_nav(endpoint, values):
        g.nav = endpoint or ""


OPEN_DATA_PREFIX = "/api/v1/"


def _security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.path.startswith(OPEN_DATA_PREFIX):
        # Open data: any site may read it from a browser (read-only, no cookies honoured: every route is public).
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers.setdefault("Cross-Origin-Resource-Policy", "cross-origin")
    else:
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


