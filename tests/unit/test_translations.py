"""The Chinese catalog: every message of the code and templates is translated, placeholders survive, and it loads.

Messages are extracted in-process with the babel.cfg mapping, so a new `_()` string without a zh_CN translation
fails here naming it. To fix: `make extract-messages`, translate the new entries of
fundapp/translations/zh_Hans_CN/LC_MESSAGES/messages.po, then `make translations`.
The directory is zh_Hans_CN, not zh_CN: Babel parses the locale "zh_CN" as zh_Hans_CN and looks for that name
(then "zh"), so a zh_CN directory would never be loaded.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from fundapp.extensions import babel

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "fundapp" / "translations"
POT = TRANSLATIONS / "messages.pot"
PO = TRANSLATIONS / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "books_text": None}
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\d+|\*)?(?:\.\d+)?[diouxXeEfFgGcrs%]")


def _read_catalog(path: Path, locale: str | None = None):
    with path.open("rb") as f:
        return read_po(f, locale=locale)


def _source_messages() -> dict[tuple[str | None, str], str]:
    """(context, msgid) -> first place it occurs, for every message in the code and templates."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    found: dict[tuple[str | None, str], str] = {}
    # pybabel's default also skips directories starting with '_', which would drop templates/_macros.
    results = extract_from_dir(
        ROOT,
        method_map,
        options_map,
        keywords=KEYWORDS,
        directory_filter=lambda path: not os.path.basename(path).startswith("."),
    )
    for filename, lineno, message, _comments, context in results:
        msgid = message if isinstance(message, str) else message[0]
        found.setdefault((context, msgid), f"{filename}:{lineno}")
    return found


@pytest.fixture(scope="module")
def source_messages():
    return _source_messages()


@pytest.fixture(scope="module")
def catalog():
    return _read_catalog(PO, "zh_CN")


def _translated(message) -> bool:
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return "fuzzy" not in message.flags and all(s and s.strip() for s in strings)


def test_source_strings_are_found(source_messages):
    ids = {msgid for _context, msgid in source_messages}
    assert "Sign in" in ids  # templates
    assert "Page %(page)d of %(pages)d" in ids  # templates/_macros, a directory pybabel skips by default
    assert "Keep me signed in" in ids  # lazy_gettext as _l
    assert "Wrong email or password." in ids  # gettext as _


def test_every_source_message_has_a_chinese_translation(source_messages, catalog):
    missing = []
    for (context, msgid), where in sorted(source_messages.items(), key=lambda item: item[1]):
        message = catalog.get(msgid, context=context)
        if message is None or not _translated(message):
            missing.append(f"{where}: {msgid!r}")
    assert not missing, f"{len(missing)} message(s) without a zh_CN translation:\n" + "\n".join(missing)


def test_template_lists_every_source_message(source_messages):
    template = _read_catalog(POT)
    stale = [
        f"{where}: {msgid!r}"
        for (context, msgid), where in source_messages.items()
        if template.get(msgid, context=context) is None
    ]
    assert not stale, "messages.pot is out of date (run `make extract-messages`):\n" + "\n".join(stale)


def test_catalog_is_clean(catalog):
    assert catalog.num_plurals == 1  # zh_CN has one plural form
    fuzzy = [m.id for m in catalog if m.id and "fuzzy" in m.flags]
    assert not fuzzy, f"fuzzy entries: {fuzzy}"
    for message in catalog:
        if message.pluralizable:
            assert len(message.string) == 1, message.id


def test_translations_keep_the_placeholders(catalog):
    wrong = []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = sorted(PLACEHOLDER.findall(ids[-1]))  # zh_CN's only form translates the plural msgid
        for text in strings:
            if text and sorted(PLACEHOLDER.findall(text)) != expected:
                wrong.append(f"{message.id!r} -> {text!r}")
    assert not wrong, "placeholders differ:\n" + "\n".join(wrong)


def test_translations_format_like_their_msgid(catalog):
    """A stray '%' in a translation would break the page at run time."""
    broken = []
    for message in catalog:
        names = re.findall(r"%\((\w+)\)([sd])", message.id if isinstance(message.id, str) else message.id[-1])
        if not names:
            continue
        values = {name: 7 if kind == "d" else "x" for name, kind in names}
        for text in message.string if isinstance(message.string, tuple) else (message.string,):
            try:
                text % values
            except (KeyError, TypeError, ValueError) as error:
                broken.append(f"{message.id!r} -> {text!r}: {error!r}")
    assert not broken, "translations that do not format:\n" + "\n".join(broken)


# --- the compiled catalog in the running app --------------------------------------------------------------------


@pytest.fixture(scope="session")
def compiled_catalog():
    """Compile the .po next to it (as `make translations` does), atomically, and drop translations cached before."""
    catalog = _read_catalog(PO, "zh_CN")
    fd, tmp = tempfile.mkstemp(dir=PO.parent, prefix="messages.", suffix=".tmp.mo")  # *.mo is git-ignored
    with os.fdopen(fd, "wb") as f:
        write_mo(f, catalog)
    os.replace(tmp, PO.with_suffix(".mo"))
    domain = vars(babel).get("domain_instance")  # a cached property: absent until an app first translated
    if domain is not None:
        domain.cache.clear()
    return catalog


def test_login_page_is_chinese_by_default(compiled_catalog, client):
    del client.environ_base["HTTP_ACCEPT_LANGUAGE"]
    page = client.get("/auth/login").get_data(as_text=True)
    assert "<h1>登录</h1>" in page
    assert "电子邮箱" in page and "保持登录" in page  # lazy form labels
    assert "Sign in" not in page


def test_login_page_is_chinese_for_zh_cn(compiled_catalog, client):
    page = client.get("/auth/login", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert '<html lang="zh-CN">' in page and "<h1>登录</h1>" in page


def test_login_page_is_english_for_en(compiled_catalog, client):
    page = client.get("/auth/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="en">' in page and "<h1>Sign in</h1>" in page and "Keep me signed in" in page
    assert "登录" not in page
