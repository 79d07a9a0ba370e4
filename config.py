"""Configuration classes. Everything secret or site-specific comes from the environment."""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


def _default_sqlite_url() -> str:
    return f"sqlite:///{INSTANCE_DIR / 'fundapp.sqlite3'}"


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-not-secret")
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or _default_sqlite_url()
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    FOUNDATION_NAME = os.environ.get("FOUNDATION_NAME", "")
    FOUNDATION_REG_NO = os.environ.get("FOUNDATION_REG_NO", "")  # printed on receipts (统一社会信用代码)
    GIVING360_PREFIX = os.environ.get("GIVING360_PREFIX", "360G-fundapp")  # register your own with 360Giving

    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = os.environ.get("TIMEZONE", "Asia/Shanghai")
    LANGUAGES = ("zh_CN", "en")

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "0") == "1"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    PERMANENT_SESSION_LIFETIME = 8 * 3600

    WTF_CSRF_TIME_LIMIT = None  # token lives as long as the session
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute")
    PAGE_SIZE = 50
    # Time bank: points credited per verified hour, and the most a holder's account may hold ("" = no cap).
    VOLUNTEER_POINTS_PER_HOUR = os.environ.get("VOLUNTEER_POINTS_PER_HOUR", "1")
    VOLUNTEER_POINTS_MAX_BALANCE = os.environ.get("VOLUNTEER_POINTS_MAX_BALANCE", "")
    # Points unused this many months after they were earned lapse (`flask volunteers expire-points`); "" = never.
    VOLUNTEER_POINTS_EXPIRY_MONTHS = os.environ.get("VOLUNTEER_POINTS_EXPIRY_MONTHS", "")
    # Public pages cached per process (fundapp.disclosure.cache); 0 turns the cache off.
    PUBLIC_CACHE_SIZE = int(os.environ.get("PUBLIC_CACHE_SIZE", "512"))
    IMPORT_STALE_SECONDS = int(os.environ.get("IMPORT_STALE_SECONDS", "900"))  # an import this quiet was abandoned
    PUBLIC_VERSION_POOL_SIZE = 4  # connections per process for the cache's version query (one per thread)

    # Donation imports: uploads are kept outside the web root under random names until imported.
    IMPORT_FOLDER = os.environ.get("IMPORT_FOLDER") or str(INSTANCE_DIR / "imports")
    IMPORT_MAX_BYTES = int(os.environ.get("IMPORT_MAX_BYTES", 32 * 1024 * 1024))
    IMPORT_MAX_ROWS = int(os.environ.get("IMPORT_MAX_ROWS", 200_000))
    # No request body may be larger than the largest upload plus room for the form (Flask answers 413).
    MAX_CONTENT_LENGTH = IMPORT_MAX_BYTES + 1024 * 1024
    # Background tasks (Huey): SQLite file in instance/ unless HUEY_REDIS_URL is set; see fundapp/tasks.py.
    HUEY_IMMEDIATE = os.environ.get("HUEY_IMMEDIATE", "0") == "1"
    # Enterprise report attachments: outside the web root, served only through the app.
    ENTERPRISE_UPLOAD_DIR = os.environ.get("ENTERPRISE_UPLOAD_DIR") or str(INSTANCE_DIR / "uploads" / "enterprises")
    ENTERPRISE_UPLOAD_MAX_BYTES = int(os.environ.get("ENTERPRISE_UPLOAD_MAX_BYTES", 10 * 1024 * 1024))
    # Grants: who may decide, and when a payment needs a second approver (amounts in yuan).
    GRANT_STAFF_APPROVAL_LIMIT = os.environ.get("GRANT_STAFF_APPROVAL_LIMIT", "20000")  # above: the board decides
    BOARD_QUORUM = os.environ.get("BOARD_QUORUM", "2/3")  # share of non-recused members who must vote
    BOARD_MAJORITY = os.environ.get("BOARD_MAJORITY", "1/2")  # approvals must be MORE than this share of votes
    GRANT_SECOND_APPROVAL_ABOVE = os.environ.get("GRANT_SECOND_APPROVAL_ABOVE", "50000")  # maker-checker
    GRANT_UPLOAD_DIR = os.environ.get("GRANT_UPLOAD_DIR") or str(INSTANCE_DIR / "uploads" / "grants")
    ANNUAL_REPORT_DIR = os.environ.get("ANNUAL_REPORT_DIR") or str(INSTANCE_DIR / "reports")  # generated PDFs
    GRANT_UPLOAD_MAX_BYTES = int(os.environ.get("GRANT_UPLOAD_MAX_BYTES", 10 * 1024 * 1024))
    # Email: SMTP when MAIL_SERVER is set; otherwise each message is written as an .eml file to MAIL_OUTBOX_DIR.
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", 587))
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_USE_TLS = os.environ.get("MAIL_USE_TLS", "1") == "1"
    MAIL_SENDER = os.environ.get("MAIL_SENDER", "noreply@fundapp.local")
    MAIL_OUTBOX_DIR = os.environ.get("MAIL_OUTBOX_DIR") or str(INSTANCE_DIR / "outbox")
    SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:5000")  # for links in emails
    MAIL_MAX_AGE_DAYS = int(os.environ.get("MAIL_MAX_AGE_DAYS", 7))  # older unsent notifications stay inbox-only

    # --- Statutory ratios and the compliance calendar (fundapp/compliance, docs/ratios.md) ---------------------
    # FOUNDATION_TYPE: "public_fundraising" (foundation with public-fundraising status: 70% of prior-year income,
    # management at most 10%) or "non_public" (no public-fundraising status: the band is chosen automatically by
    # the prior year-end net assets). Every threshold is a decimal string (a share: "0.70" = 70%).
    FOUNDATION_TYPE = os.environ.get("FOUNDATION_TYPE", "public_fundraising")
    RATIO_PUBLIC_CHARITABLE_MIN = os.environ.get("RATIO_PUBLIC_CHARITABLE_MIN", "0.70")
    RATIO_PUBLIC_MANAGEMENT_MAX = os.environ.get("RATIO_PUBLIC_MANAGEMENT_MAX", "0.10")
    # Net-assets bands for non_public foundations: upper limits (yuan, exclusive), then one value per band.
    RATIO_BAND_LIMITS = os.environ.get("RATIO_BAND_LIMITS", "4000000,8000000,60000000")
    RATIO_BAND_CHARITABLE_MIN = os.environ.get("RATIO_BAND_CHARITABLE_MIN", "0.08,0.07,0.06,0.06")
    RATIO_BAND_MANAGEMENT_MAX = os.environ.get("RATIO_BAND_MANAGEMENT_MAX", "0.20,0.15,0.13,0.12")
    RATIO_MANAGEMENT_EXEMPTION = os.environ.get("RATIO_MANAGEMENT_EXEMPTION", "200000")  # below: no cap
    RATIO_THREE_YEAR_AVERAGE = os.environ.get("RATIO_THREE_YEAR_AVERAGE", "0") == "1"  # default of the page toggle
    RATIO_WARNING_MARGIN = os.environ.get("RATIO_WARNING_MARGIN", "0.02")  # warn this close to a bound (share)
    COMPLIANCE_DUE_SOON_DAYS = int(os.environ.get("COMPLIANCE_DUE_SOON_DAYS", 14))
    COMPLIANCE_LOOKBACK_DAYS = int(os.environ.get("COMPLIANCE_LOOKBACK_DAYS", 400))  # older duties drop off

    # Sign-in security (fundapp/auth; OWASP ASVS level 2) -----------------------------------------------------
    # Users holding any of these roles must pass a TOTP second step (enrolment at their first sign-in).
    TWO_FACTOR_ROLES = tuple(r.strip() for r in os.environ.get("TWO_FACTOR_ROLES", "admin,finance,board").split(",")
                             if r.strip())
    # The key sealing TOTP secrets in the database (fundapp/auth/sealed.py); derived from SECRET_KEY when unset.
    # Changing it (or SECRET_KEY when it is unset) makes enrolled users need a recovery code or an admin reset.
    TWO_FACTOR_KEY = os.environ.get("TWO_FACTOR_KEY") or None
    TWO_FACTOR_ISSUER = os.environ.get("TWO_FACTOR_ISSUER", "fundapp")  # the name shown in authenticator apps
    TWO_FACTOR_PENDING_SECONDS = int(os.environ.get("TWO_FACTOR_PENDING_SECONDS", 300))  # password -> code
    RECOVERY_CODE_COUNT = 10
    PASSWORD_MIN_LENGTH = int(os.environ.get("PASSWORD_MIN_LENGTH", 12))
    # Lockout: this many failed sign-ins (password or code) for one email address within the window lock it.
    LOCKOUT_THRESHOLD = int(os.environ.get("LOCKOUT_THRESHOLD", 10))
    LOCKOUT_WINDOW_SECONDS = int(os.environ.get("LOCKOUT_WINDOW_SECONDS", 15 * 60))
    LOCKOUT_SECONDS = int(os.environ.get("LOCKOUT_SECONDS", 15 * 60))
    # A signed-in session ends after this long without a request, and in any case this long after sign-in.
    SESSION_IDLE_SECONDS = int(os.environ.get("SESSION_IDLE_SECONDS", 30 * 60))
    SESSION_MAX_SECONDS = int(os.environ.get("SESSION_MAX_SECONDS", 12 * 3600))


class DevelopmentConfig(Config):
    DEBUG = False


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "testing"
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    WTF_CSRF_ENABLED = False
    RATELIMIT_ENABLED = False
    PASSWORD_HASH_FAST = True
    HUEY_IMMEDIATE = True  # tasks run inline, in the request that enqueues them
    PUBLIC_CACHE_SIZE = 0  # tests change rows directly (no audit event); tests/disclosure/test_cache.py turns it on


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "1") == "1"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 10}


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_from_env() -> type[Config]:
    return CONFIGS.get(os.environ.get("FUNDAPP_ENV", "development"), DevelopmentConfig)
