"""The watch list in the real UI: an office manager finds a customer at risk, follows it up from
the keyboard, and an agent sees the reason on the customer's page."""

from __future__ import annotations

from datetime import date

from app.extensions import db
from app.warnings import services
from tests.browser.test_issues import sign_in, sign_out
from tests.warnings.conftest import NOW


def test_office_manager_acknowledges_a_customer_at_risk(page, world):
    world.customer.contract_end = date(2026, 12, 15)
    world.customer_gz.contract_end = date(2026, 12, 1)
    services.refresh(NOW)
    db.session.commit()

    sign_in(page, "om@sh.example.com")
    page.goto("/warnings/")
    rows = page.locator("#watch-list tbody tr")
    assert rows.count() == 1  # GZ's customer is not in SH's list
    assert "张伟" in rows.first.inner_text() and "2026-12-15" in rows.first.inner_text()

    note = rows.first.locator("input[name=note]")
    note.focus()
    page.keyboard.type("王经理周一上门拜访")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "王经理周一上门拜访" in page.locator("#watch-list").inner_text()
    assert page.locator("#watch-list input[name=note]").count() == 0

    page.goto("/warnings/?open=1")
    assert page.locator("#watch-list").count() == 0  # nothing left to follow up

    sign_out(page)
    sign_in(page, "agent@sh.example.com")
    page.goto(f"/customers/{world.customer.id}")
    assert "2026-12-15" in page.locator("#warnings").inner_text()

    # the hotline screen tells the agent as soon as the caller is found
    page.goto("/issues/new")
    page.wait_for_function(
        "document.activeElement && document.activeElement.id === 'caller-search'"
    )
    page.keyboard.type("13800")
    page.locator("#caller-suggestions li").first.wait_for()
    page.keyboard.press("Enter")
    page.locator("#caller-risk-box:not([hidden])").wait_for()
    assert "2026-12-15" in page.locator("#caller-risk").inner_text()
