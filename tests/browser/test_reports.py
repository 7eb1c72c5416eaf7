"""The weekly monitoring in the real UI: charts drawn by plotly.js from the package, no
JavaScript error, drill-down to an office, XLSX export."""

from __future__ import annotations

import io
from datetime import timedelta

from openpyxl import load_workbook

from app.extensions import db
from tests.browser.test_issues import sign_in
from tests.reports.conftest import W47_START, make_issue, make_voice  # noqa: F401  (fixtures)


def test_regional_manager_reviews_the_week_and_exports(
    page,
    world,
    make_issue,  # noqa: F811
    make_voice,  # noqa: F811
):
    for day in range(3):
        make_issue(received_at=W47_START + timedelta(days=day, hours=3))
    make_issue(world.gz, received_at=W47_START + timedelta(days=1))
    make_voice(sentiment="negative")
    db.session.commit()

    sign_in(page, "rm@east.example.com")
    page.goto("/reports/weekly?week=2026-W47")
    page.locator("#chart-headline[data-drawn]").wait_for()
    assert page.locator(".chart[data-drawn] .main-svg").count() >= 9
    assert page.locator("#scope-rows tbody tr").count() == 1
    # the figures table says 3 new for the region (GZ is not in it)
    assert page.locator('tr[data-figure-name="new"] td.value').inner_text() == "3"
    # a table view opens from the keyboard
    page.locator("#h-ageing ~ details summary").focus()
    page.keyboard.press("Enter")
    assert page.locator("#h-ageing ~ details table").is_visible()

    with page.expect_navigation():
        page.locator("#scope-rows a", has_text="SH").click()
    assert "office=SH" in page.url
    page.locator("#chart-backlog[data-drawn]").wait_for()
    assert "SH" in page.locator("h1").inner_text()

    with page.expect_download() as info:
        page.locator("#export-xlsx").click()
    download = info.value
    assert download.suggested_filename == "weekly-office-SH-2026-W47.xlsx"
    with open(download.path(), "rb") as f:
        book = load_workbook(io.BytesIO(f.read()))
    assert len(book.sheetnames) >= 10


def test_quality_admin_records_an_action_from_the_monthly_review(
    page,
    world,
    make_issue,  # noqa: F811
):
    from datetime import UTC, datetime

    import sqlalchemy as sa

    from app.actions.models import ImprovementAction

    october = datetime(2026, 10, 5, 3, 0, tzinfo=UTC)
    for day in range(3):
        make_issue(received_at=october + timedelta(days=day), category="delivery")
    make_issue(received_at=october, category="installation")
    db.session.commit()

    sign_in(page, "qa@example.com")
    page.goto("/reports/quality?region=EAST&month=2026-10")
    page.locator("#chart-pareto_categories[data-drawn]").wait_for()
    with page.expect_navigation():
        page.locator("a.act-on-category").first.click()
    assert page.locator("#place").input_value() == "region:EAST"
    assert page.locator("#metric_category").input_value() == "delivery"
    page.fill("#title", "交付周期缩短到 5 天")
    page.select_option("#owner_id", str(world.rm.id))
    page.fill("#due_on", "2026-12-31")
    with page.expect_navigation():
        page.locator("#action-form button[type=submit]").click()
    assert page.locator("#action-title").inner_text() == "交付周期缩短到 5 天"
    assert page.locator("#effect").is_visible()

    page.goto("/reports/quality?region=EAST&month=2026-10")
    assert page.locator("#review-actions").get_by_text("交付周期缩短到 5 天").is_visible()
    db.session.rollback()  # end the test's read snapshot: see what the server committed
    action = db.session.scalars(sa.select(ImprovementAction)).one()
    assert (action.region_id, action.created_by_id) == (world.east.id, world.qa.id)
