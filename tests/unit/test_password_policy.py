"""The password policy: examples of each rule, and properties (hypothesis) tying acceptance to the rules."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fundapp.auth.password_policy import COMMON_PASSWORDS, character_class, password_problems

EMAILS = st.sampled_from(["", "ada@example.org", "li.ming@example.org", "bo@example.org", "Admin@demo.fundapp.cn"])
TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)


def kinds(password: str) -> set[str]:
    """Written apart from the module: digits, lower-case, upper-case, anything else."""
    return {"digit" if c.isdigit() else "lower" if c.islower() else "upper" if c.isupper() else "other"
            for c in password}


def breaks_a_rule(password: str, email: str) -> bool:
    name = email.split("@")[0].lower() if "@" in email else ""
    return (len(password) < 12 or len(kinds(password)) < 2 or password.lower() in COMMON_PASSWORDS
            or (len(name) >= 3 and name in password.lower()))


@pytest.mark.parametrize(
    "password, email, message",
    [
        ("Short-1", "", "at least 12 characters"),
        ("", "", "at least 12 characters"),
        ("abcdefghijklmnop", "", "two kinds of characters"),
        ("社区基金会的长长的密码很安全吧", "", "two kinds of characters"),
        ("123456789012345", "", "two kinds of characters"),
        ("Password1234", "", "too common"),
        ("QWERTY123456", "", "too common"),
        ("my-li.ming-secret-1", "Li.Ming@example.org", "your email name"),
    ],
)
def test_each_rule_refuses_with_its_message(password, email, message):
    problems = password_problems(password, email)
    assert any(message in problem for problem in problems), problems


@pytest.mark.parametrize(
    "password, email",
    [("correct-horse-battery", "user1@example.org"), ("demo-password-2026", "admin@demo.fundapp.cn"),
     ("a-long-enough-password", "bo@example.org"), ("社区基金会的密码2026", ""), ("Tr0ub4dor&3xyz", "")],
)
def test_good_passwords_pass(password, email):
    assert password_problems(password, email) == []


def test_common_list_entries_are_long_enough_to_matter():
    assert all(len(entry) >= 12 for entry in COMMON_PASSWORDS)


@given(password=TEXT, email=EMAILS)
@settings(max_examples=400, deadline=None)
def test_any_accepted_password_satisfies_every_rule(password, email):
    if password_problems(password, email) == []:
        assert not breaks_a_rule(password, email)


@given(password=TEXT, email=EMAILS)
@settings(max_examples=400, deadline=None)
def test_any_password_breaking_a_rule_is_refused(password, email):
    if breaks_a_rule(password, email):
        assert password_problems(password, email)


@given(base=st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=12, max_size=30),
       extra=st.sampled_from("0123456789!-_ ABCXYZ"), position=st.integers(min_value=0, max_value=30))
def test_one_character_of_another_kind_makes_a_long_password_acceptable(base, extra, position):
    password = base[:position] + extra + base[position:]
    assert password_problems(password, "x@example.org") == [] or password.lower() in COMMON_PASSWORDS


@given(st.characters(codec="utf-8", exclude_categories=("Cs",)))
def test_character_classes_agree(char):
    assert {character_class(char)} == kinds(char)
