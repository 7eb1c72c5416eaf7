"""Designing a survey in the real page: rows added and removed by the small script, the weight
total shown as one types, the design saved."""

from __future__ import annotations

import re

import sqlalchemy as sa

from app.extensions import db
from app.surveys.models import Survey
from tests.browser.test_issues import sign_in


def test_quality_admin_designs_with_added_rows(page, world, tmp_path):
    sign_in(page, "qa@example.com")
    page.goto("/surveys/new")
    page.fill("#title", "浏览器设计的问卷")
    page.fill("#i-0-key", "quality")
    page.fill("#i-0-name_zh", "质量")
    page.fill("#i-0-weight", "60")
    assert page.locator("#weight-total").inner_text() == "60 %"
    page.get_by_role("button", name="添加指标").click()
    last = page.locator("#indicator-rows tr").last
    last.locator("input[name$='-key']").fill("speed")
    last.locator("input[name$='-weight']").fill("40")
    assert page.locator("#weight-total").inner_text() == "100 %"

    page.fill("#q-0-key", "q1")
    page.fill("#q-0-text_zh", "质量满意吗？")
    page.fill("#q-0-indicator", "quality")
    page.get_by_role("button", name="添加题目").click()
    row = page.locator("#question-rows tr").last
    row.locator("input[name$='-key']").fill("q2")
    row.locator("textarea[name$='-text_zh']").fill("速度满意吗？")
    row.locator("input[name$='-indicator']").fill("speed")
    page.get_by_role("button", name="添加题目").click()
    extra = page.locator("#question-rows tr").last
    extra.locator("input[name$='-key']").fill("gone")
    extra.locator("textarea[name$='-text_zh']").fill("这行删掉")
    extra.locator("input.remove-row").check()
    page.screenshot(path=str(tmp_path / "design.png"), full_page=True)
    with page.expect_navigation():
        page.get_by_role("button", name="保存").click()
    page.wait_for_url(re.compile(r".*/surveys/\d+$"))
    db.session.rollback()
    survey = db.session.scalars(sa.select(Survey)).one()
    assert [q.key for q in survey.questions] == ["q1", "q2"]
    assert survey.weights() == {"quality": 60.0, "speed": 40.0}
