"""Chinese first: every string the code shows must have a real Chinese translation."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]


def catalog(lang):
    with open(ROOT / "app" / "translations" / lang / "LC_MESSAGES" / "messages.po", "rb") as fh:
        return read_po(fh, locale=lang)


def test_every_extracted_string_is_translated_to_chinese(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            # Babel's legacy default skips directories starting with "_" (our _macros/)
            "--ignore-dirs",
            ".*",
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with open(pot, "rb") as fh:
        extracted = {m.id for m in read_po(fh) if m.id}
    zh = {m.id: m for m in catalog("zh") if m.id}
    missing = sorted(str(i) for i in extracted - set(zh))
    assert not missing, f"run `make messages` and translate: {missing}"
    untranslated = sorted(str(i) for i, m in zh.items() if not m.string or m.fuzzy)
    assert not untranslated, f"untranslated or fuzzy in zh: {untranslated}"
    en = {m.id for m in catalog("en") if m.id}
    assert en == set(zh), f"en and zh catalogs differ: {sorted(map(str, en ^ set(zh)))}"


def test_login_page_is_chinese_by_default_and_english_on_request(client):
    zh = client.get("/login").get_data(as_text=True)
    assert "登录" in zh and "客户之声" in zh
    en = client.get("/login?lang=en").get_data(as_text=True)
    assert "Sign in" in en and 'lang="en"' in en
