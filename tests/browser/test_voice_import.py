"""A manager imports a spreadsheet through the mapping preview and reads the per-row report."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from app.extensions import db
from app.voice.models import Voice
from tests.browser.test_issues import sign_in
from tests.voice.import_helpers import xlsx_bytes


def test_manager_imports_a_spreadsheet_and_sees_the_report(page, world, tmp_path, app, monkeypatch):
    monkeypatch.setitem(app.config, "VOICE_IMPORT_UPLOAD_DIR", str(tmp_path / "uploads"))
    path = tmp_path / "退货记录.xlsx"
    path.write_bytes(
        xlsx_bytes(
            [
                ["反馈内容", "日期", "手机", "批次", "备注"],
                [
                    "电源模块退货，开机无反应",
                    datetime(2026, 11, 20, 9, 30),  # noqa: DTZ001 (an Excel cell)
                    "13800138000",
                    "B2026-11",
                    "x",
                ],
                ["", "2026-11-21", "", "B2026-10", ""],
                ["<b>外壳开裂</b>", "2026年11月22日", "", "B2026-09", ""],
                ["包装破损", "明天", "", "", ""],
            ]
        )
    )
    sign_in(page, "om@sh.example.com")
    page.goto("/voices/import/")
    page.set_input_files("#file", str(path))
    page.select_option("#channel", "return")
    page.select_option("#office", "SH")
    with page.expect_navigation():
        page.click("#upload-form button[type=submit]")

    # the preview: first rows, and the mapping chosen from the headers
    assert page.locator("#row-count").inner_text() == "4"
    assert "电源模块退货" in page.locator("#preview").inner_text()
    assert page.locator("#preview b").count() == 0  # the file's markup is text, not HTML
    assert page.locator("#map_text").input_value() == "反馈内容"
    assert page.locator("#map_occurred_at").input_value() == "日期"
    assert page.locator("#map_customer_phone").input_value() == "手机"
    assert page.locator("#map_batch").input_value() == "批次"
    assert page.locator("#map_product").input_value() == ""
    with page.expect_navigation():
        page.click("#mapping-form button[type=submit]")

    assert page.locator("#created").inner_text() == "2"
    assert page.locator("#rejected-count").inner_text() == "2"
    report = page.locator("#rejected").inner_text()
    # the row problems in the page's language (Chinese by default)
    assert "3" in report and "必填" in report
    assert "5" in report and "不是日期" in report
    voices = db.session.scalars(sa.select(Voice).order_by(Voice.import_row)).all()
    assert [v.text for v in voices] == ["电源模块退货，开机无反应", "<b>外壳开裂</b>"]
    assert voices[0].customer_id == world.customer.id

    page.goto("/voices/import/")
    assert "退货记录.xlsx" in page.locator("#past-imports").inner_text()
