"""Classification rules in the real UI: a quality admin adds a rule by keyboard, the staff
suggestion endpoint picks it up at once, and the rule is deactivated from the list."""

from __future__ import annotations

import re

from app.extensions import db
from app.voice.rules import ensure_default_rules
from tests.browser.test_issues import sign_in


def test_quality_admin_adds_and_deactivates_a_rule(page, world):
    ensure_default_rules()
    db.session.commit()
    sign_in(page, "qa@example.com")
    page.get_by_role("link", name="分类规则").click()
    page.wait_for_url(re.compile(r".*/voices/rules$"))
    page.focus("#rule-keyword")
    page.keyboard.type("蜂鸣器")
    page.select_option("#rule-category", "product_quality")
    page.fill("#rule-weight", "2")
    with page.expect_navigation():
        page.press("#rule-weight", "Enter")
    assert "规则已添加" in page.inner_text("body")

    hint = page.request.get("/voices/classify?text=蜂鸣器一直在响").json()
    assert hint["category"] == "product_quality" and hint["matched"] == ["蜂鸣器"]

    page.fill("#q", "蜂鸣器")
    with page.expect_navigation():
        page.press("#q", "Enter")
    row = page.locator("tr", has_text="蜂鸣器")
    with page.expect_navigation():
        row.get_by_role("button", name="停用").click()
    assert "规则已停用" in page.inner_text("body")
    hint = page.request.get("/voices/classify?text=蜂鸣器一直在响").json()
    assert hint["category"] is None
