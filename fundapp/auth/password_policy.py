"""The password policy (OWASP ASVS 2.1): long enough, not of one character class only, not a commonly used
password, not containing the email's local part. `password_problems` returns every rule broken, as messages in
the user's language; services refuse a password with any problem."""

from __future__ import annotations

from flask import current_app, has_app_context
from flask_babel import gettext as _

DEFAULT_MIN_LENGTH = 12
MIN_LOCAL_PART = 3  # shorter local parts ("bo@...") would forbid too many passwords
# Passwords of 12 or more characters seen most often in breach corpora, plus this site's own words; compared
# case-insensitively. A small list by design: length and the class rule do most of the work.
COMMON_PASSWORDS = frozenset("""
123456789012 1234567890123 12345678901234 123456789abc 1234567890ab 1234567890qwe 1234qwerasdf 1234qwer1234
1q2w3e4r5t6y 1q2w3e4r5t6y7u 1qaz2wsx3edc 1qaz2wsx3edc4rfv zaq12wsxcde3 zaq1xsw2cde3 qwertyuiop123 qwerty123456
qwerty1234567 qwertyuiop12 qwe123qwe123 asdfghjkl123 asdfghjkl1234 1qazxsw23edc abc123456789 abcd12345678
abcd1234abcd a1b2c3d4e5f6 aa123456789a password1234 password12345 password123! password@123 passw0rd1234
p@ssw0rd1234 p@ssword1234 iloveyou1234 iloveyou12345 welcome12345 welcome@1234 changeme1234 letmein12345
admin1234567 admin@123456 admin123456! administrator administrator1 football1234 baseball1234 monkey123456
dragon123456 superman1234 sunshine1234 princess1234 trustno1trustno1 1234567890!@ qwerty!@#$%^ !qaz@wsx#edc
woaini1314520 woaini131420 5201314520131 520131452013 woaini520520 aini1314520! 147258369123 147258369abc
123qweasdzxc qweasdzxc123 1qaz@wsx3edc q1w2e3r4t5y6 q1w2e3r4t5y6u7 11111111111a 000000000000a 888888888888a
fundapp12345 fundapp123456 foundation123 foundation1234 community1234 fundmanager1
""".split())


def _min_length() -> int:
    return current_app.config.get("PASSWORD_MIN_LENGTH", DEFAULT_MIN_LENGTH) if has_app_context() else \
        DEFAULT_MIN_LENGTH


def character_class(char: str) -> str:
    """lower, upper, digit or other (symbols, spaces and letters without case such as 汉字)."""
    if char.isdigit():
        return "digit"
    if char.islower():
        return "lower"
    if char.isupper():
        return "upper"
    return "other"


def local_part(email: str | None) -> str:
    return (email or "").strip().rsplit("@", 1)[0].lower() if "@" in (email or "") else ""


def password_problems(password: str | None, email: str | None = None) -> list[str]:
    """Every rule the password breaks (empty when it is acceptable)."""
    password = password or ""
    problems = []
    minimum = _min_length()
    if len(password) < minimum:
        problems.append(_("A password needs at least %(n)d characters.", n=minimum))
    if password and len({character_class(c) for c in password}) < 2:
        problems.append(_("Mix at least two kinds of characters: lower-case and upper-case letters, digits, "
                          "other signs."))
    if password.lower() in COMMON_PASSWORDS:
        problems.append(_("This password is too common; choose another."))
    name = local_part(email)
    if len(name) >= MIN_LOCAL_PART and name in password.lower():
        problems.append(_("A password may not contain your email name."))
    return problems
